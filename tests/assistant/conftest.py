from tests.assistant.openai_server import openai_server  # noqa: F401  (session fixture)
from tests.model_fixtures import converted, tiny_llama_dir  # noqa: F401  (session fixtures)
