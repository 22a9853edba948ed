from tests.model_fixtures import converted, tiny_llama_dir  # noqa: F401  (session fixtures)
