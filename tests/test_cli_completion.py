"""Shell completion (issue 8 point 14): --as, --request-type and file names."""

import os
import subprocess
import sys


def complete(words: str) -> list[str]:
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1),
               _MAPIWIRE_COMPLETE="bash_complete")
    out = subprocess.run([sys.executable, "-c", "from mapiwire.cli import main; main(prog_name='mapiwire')"],
                         env=env, capture_output=True, text=True).stdout
    return out.split()


def test_decode_as_completes_structures():
    assert complete("mapiwire decode --as exec") == ["plain,execute-request", "plain,execute-response"]


def test_request_type_completes_case_insensitively():
    assert complete("mapiwire dissect --request-type notif") == ["plain,NotificationWait"]


def test_capture_argument_completes_file_names():
    assert complete("mapiwire dissect capt") == ["file,capt"]
