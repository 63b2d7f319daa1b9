// The C++ side of bench/python_bench.py's "no-op API": a service whose one API returns what
// it was given, so that a request's cost is bento's alone (HTTP, JSON, the worker handoff).
// bench/bento_python_services.py's Noop is the same API in Python; the difference between
// the two is what calling Python adds to a request.
#include <string>

#include "bento/service.h"

class Noop : public bento::Service {
 public:
  Noop() : Service("Noop") { Api("noop", &Noop::Echo, {"text"}, "Returns the text it is given"); }

  bento::Json Echo(const std::string& text) { return bento::Json{{"text", text}}; }
};

BENTO_SERVICE_MAIN(Noop)
