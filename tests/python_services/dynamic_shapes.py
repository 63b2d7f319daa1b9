# The guide's DynamicONNXService (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the three below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List

@bentoml.service
class DynamicONNXService:
    def __init__(self):
        self.session = bentoml.onnx.load_model("dynamic_model:latest")
        
        # Check if model supports dynamic shapes
        input_shape = self.session.get_inputs()[0].shape
        self.dynamic_dims = [i for i, dim in enumerate(input_shape) if isinstance(dim, str)]
    
    @bentoml.api
    def process_variable_input(self, data: List[List[float]]) -> dict:
        # Handle variable batch size
        input_array = np.array(data, dtype=np.float32)
        
        # Run inference
        input_name = self.session.get_inputs()[0].name
        output_name = self.session.get_outputs()[0].name
        
        outputs = self.session.run([output_name], {input_name: input_array})
        
        return {
            "input_shape": input_array.shape,
            "output_shape": outputs[0].shape,
            "results": outputs[0].tolist()
        }
