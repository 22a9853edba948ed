from assistant.cli import entrypoint

entrypoint()
