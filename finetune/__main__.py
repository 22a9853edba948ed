"""``python -m finetune ARGS`` is ``ragft finetune ARGS``: what ``accelerate launch -m finetune`` starts
in each process (see ``finetune.launch``)."""

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", *sys.argv[1:]]))
