"""Command line: `python -m autograder {release,grade,report,course} ...`."""
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    commands = {"release": "autograder.release", "grade": "autograder.grading.cli",
                "report": "autograder.grading.class_report", "course": "autograder.grading.course"}
    if not argv or argv[0] not in commands:
        print("usage: python -m autograder {release,grade,report,course} ...  (each takes --help)", file=sys.stderr)
        return 2
    import importlib
    return importlib.import_module(commands[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
