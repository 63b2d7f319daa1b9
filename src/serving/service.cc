// bento::Service: the parts of include/bento/service.h that are not templates.
#include "bento/service.h"

namespace bento {

Service::Service(std::string name, ServiceOptions options)
    : name_(std::move(name)), options_(std::move(options)) {}

Service::~Service() = default;

}  // namespace bento
