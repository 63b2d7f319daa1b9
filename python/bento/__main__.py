"""python -m bento serve module:Class [serve flags]: serves a @bento.service class on bento's
C++ server, in this process. `module` is imported from the current folder first; with no
`:Class`, the module's one @bento.service class is served."""
import importlib
import os
import sys
import traceback


def main(argv) -> int:
    if len(argv) < 2 or argv[0] != "serve" or argv[1].startswith("-"):
        print("usage: python -m bento serve MODULE[:CLASS] [serve flags; --help for them]",
              file=sys.stderr)
        return 2
    target, flags = argv[1], argv[2:]
    module_name, _, class_name = target.partition(":")
    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception:  # noqa: BLE001: any failure of the user's module is reported alike
        traceback.print_exc()
        print(f"bento: cannot import the service module '{module_name}' (above: why)",
              file=sys.stderr)
        return 1
    if class_name:
        cls = getattr(module, class_name, None)
        if cls is None or not hasattr(cls, "__bento_service__"):
            print(f"bento: '{module_name}' has no @bento.service class '{class_name}'",
                  file=sys.stderr)
            return 1
    else:
        found = [v for v in vars(module).values()
                 if isinstance(v, type) and hasattr(v, "__bento_service__")]
        if len(found) != 1:
            print(f"bento: '{module_name}' has {len(found)} @bento.service classes; name one "
                  f"as {module_name}:CLASS", file=sys.stderr)
            return 1
        cls = found[0]
    from ._serve import serve
    return serve(cls, [f"bento serve {target}", *flags])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
