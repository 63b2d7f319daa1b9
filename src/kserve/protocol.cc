#include "kserve/protocol.h"

#include <cctype>
#include <memory>

namespace bento::kserve {
namespace {

// Triton's wording, which its clients check: "Request for unknown model: 'm' is not found",
// "Request for unknown model: 'm' version 2 is not found".
Status UnknownModel(std::string_view name, std::string_view version) {
  return NotFoundError("Request for unknown model: '" + std::string(name) + "'" +
                       (version.empty() ? "" : " version " + std::string(version)) +
                       " is not found");
}

ModelStatistics::Duration Read(const manager::InferStats::Duration& d) {
  return {d.count.load(std::memory_order_relaxed), d.ns.load(std::memory_order_relaxed)};
}

}  // namespace

std::vector<std::string> InputFormats(const Json& metadata, const std::vector<TensorSpec>& inputs) {
  auto format = [](const Json& value) -> std::string {
    if (!value.is_string()) return "FORMAT_NONE";
    std::string text = value.get<std::string>();
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (text.starts_with("FORMAT_")) text = text.substr(7);
    return text == "NCHW" || text == "NHWC" ? "FORMAT_" + text : "FORMAT_NONE";
  };
  const Json* given = nullptr;
  if (metadata.is_object()) {
    if (auto it = metadata.find("input_format"); it != metadata.end()) given = &*it;
  }
  std::vector<std::string> out;
  for (const TensorSpec& spec : inputs) {
    if (given == nullptr) {
      out.push_back("FORMAT_NONE");
    } else if (given->is_object()) {
      auto it = given->find(spec.name);
      out.push_back(it == given->end() ? "FORMAT_NONE" : format(*it));
    } else {
      out.push_back(format(*given));
    }
  }
  return out;
}

ServerMetadata Protocol::Server() {
  return {"bento",
          BENTO_VERSION,
          {"binary_tensor_data", "model_configuration", "model_repository", "statistics",
           "system_shared_memory"}};
}

std::vector<std::string> Protocol::Names() const { return models_.Names(); }

StatusOr<manager::ModelRef> Protocol::Find(std::string_view name,
                                           std::string_view version) const {
  auto model = models_.Find(name, version);
  if (model.status().code() == StatusCode::kNotFound) return UnknownModel(name, version);
  return model;
}

StatusOr<ModelMetadata> Protocol::Metadata(std::string_view name,
                                           std::string_view version) const {
  ASSIGN_OR_RETURN(manager::ModelRef model, Find(name, version));
  const ModelInfo& info = model->model().info;
  std::vector<TensorSpec> inputs = info.inputs("run");
  std::vector<std::string> formats = InputFormats(info.metadata, inputs);
  std::vector<std::string> versions;
  for (const auto& served : models_.Served(name)) versions.push_back(served->version());
  if (!version.empty()) versions = {model->version()};
  return ModelMetadata{model->name(),         model->version(),   std::move(versions),
                       std::move(inputs),     info.outputs("run"), model->max_batch_size(),
                       std::move(formats)};
}

Status Protocol::ModelReady(std::string_view name, std::string_view version) const {
  return Find(name, version).status();
}

StatusOr<std::vector<ModelStatistics>> Protocol::Statistics(std::string_view name,
                                                            std::string_view version) const {
  std::vector<manager::ModelRef> models;
  if (name.empty()) {
    models = models_.Served();
  } else if (!version.empty()) {
    ASSIGN_OR_RETURN(manager::ModelRef model, Find(name, version));
    models.push_back(std::move(model));
  } else {
    if (!models_.Knows(name)) return UnknownModel(name, version);
    models = models_.Served(name);
  }
  std::vector<ModelStatistics> all;
  for (const auto& model : models) {
    const manager::InferStats& st = model->stats();
    ModelStatistics out;
    out.name = model->name();
    out.version = model->version();
    out.last_inference_ms = st.last_inference_ms.load(std::memory_order_relaxed);
    out.success = Read(st.success);
    out.fail = Read(st.fail);
    out.compute_input = Read(st.compute_input);
    out.compute_infer = Read(st.compute_infer);
    out.compute_output = Read(st.compute_output);
    out.inference_count = st.items.load(std::memory_order_relaxed);
    out.execution_count = out.success.count;
    if (auto b = model->batcher_stats()) {
      out.queue = {b->queue_wait_seconds.count,
                   static_cast<uint64_t>(b->queue_wait_seconds.sum * 1e9)};
      out.execution_count = b->batches_total - b->batch_errors_total;
    }
    all.push_back(std::move(out));
  }
  return all;
}

void Protocol::Infer(std::string_view name, std::string_view version,
                     const std::function<StatusOr<InferRequest>()>& parse,
                     std::function<void(StatusOr<InferResponse>)> done) const {
  // The version this request runs on, held until it is answered.
  auto found = Find(name, version);
  if (!found.ok()) return done(found.status());
  manager::ModelRef model = *std::move(found);
  manager::InferTimer timer(model->stats());
  auto parsed = parse();
  if (!parsed.ok()) return done(timer.Fail(parsed.status()));
  auto request = std::make_shared<InferRequest>(std::move(*parsed));
  std::map<std::string, Tensor> inputs;
  for (auto& input : request->inputs) {
    if (input.region) {
      auto read = shared_memory_.Read("input '" + input.name + "'", *input.region, input.dtype,
                                      std::move(input.shape));
      if (!read.ok()) return done(timer.Fail(read.status()));
      input.tensor = *std::move(read);
    }
    inputs.emplace(input.name, std::move(input.tensor));
  }
  Status valid = model->CheckInputs(inputs);
  if (!valid.ok()) return done(timer.Fail(valid));
  const onnx::Session& session = model->session();
  for (const auto& wanted : request->outputs) {
    bool known = false;
    for (const auto& spec : session.outputs()) known |= spec.name == wanted.name;
    if (!known) {
      return done(timer.Fail(InvalidArgumentError("unknown output '" + wanted.name + "'")));
    }
    if (wanted.region) {
      Status region = shared_memory_.Check("output '" + wanted.name + "'", *wanted.region);
      if (!region.ok()) return done(timer.Fail(region));
    }
  }
  timer.InputDone();
  uint64_t items = model->Items(inputs);
  model->Infer(std::move(inputs), [this, model, request, timer, items, done = std::move(done)](
                                      StatusOr<std::vector<Tensor>> outputs) mutable {
    if (!outputs.ok()) return done(timer.Fail(outputs.status()));
    timer.InferDone();
    InferResponse response{model->name(), model->version(), std::move(request->id),
                           std::move(request->parameters), {}};
    const auto& specs = model->session().outputs();
    for (size_t i = 0; i < outputs->size(); ++i) {
      const std::string& output = specs[i].name;
      bool binary = request->binary_outputs_default;
      bool wanted = request->outputs.empty();
      std::optional<RegionRef> region;
      for (const auto& o : request->outputs) {
        if (o.name != output) continue;
        wanted = true;
        region = o.region;
        if (o.parameters.is_object() && o.parameters.contains("binary_data")) {
          binary = o.binary_data;
        }
      }
      if (!wanted) continue;
      Tensor& tensor = (*outputs)[i];
      if (region) {
        std::string framed;  // BYTES need their length framing; other types are their bytes
        if (tensor.dtype() == DType::kString) AppendRawTensor(tensor, &framed);
        std::string_view bytes = tensor.dtype() == DType::kString ? framed : tensor.bytes();
        Status written = shared_memory_.Write("output '" + output + "'", *region, bytes);
        if (!written.ok()) return done(timer.Fail(written));
        region->byte_size = bytes.size();
      }
      response.outputs.push_back({output, std::move(tensor), binary, std::move(region)});
    }
    timer.Succeed(items);
    done(std::move(response));
  });
}

}  // namespace bento::kserve
