# The guide's ValidatedONNXService (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the three lines below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List

@bentoml.service
class ValidatedONNXService:
    def __init__(self):
        self.session = bentoml.onnx.load_model("validated_model:latest")
        
        # Validate model inputs/outputs
        self.input_spec = {
            "name": self.session.get_inputs()[0].name,
            "shape": self.session.get_inputs()[0].shape,
            "type": self.session.get_inputs()[0].type
        }
        
        self.output_spec = {
            "name": self.session.get_outputs()[0].name,
            "shape": self.session.get_outputs()[0].shape,
            "type": self.session.get_outputs()[0].type
        }
    
    def validate_input(self, input_array: np.ndarray) -> bool:
        # Check shape compatibility (ignoring dynamic dimensions)
        expected_shape = self.input_spec["shape"]
        actual_shape = input_array.shape
        
        if len(expected_shape) != len(actual_shape):
            return False
        
        for i, (expected, actual) in enumerate(zip(expected_shape, actual_shape)):
            if isinstance(expected, int) and expected != actual:
                return False
        
        return True
    
    @bentoml.api
    def predict(self, input_data: List[List[float]]) -> dict:
        input_array = np.array(input_data, dtype=np.float32)
        
        # Validate input
        if not self.validate_input(input_array):
            return {
                "error": f"Invalid input shape: {input_array.shape}, expected: {self.input_spec['shape']}"
            }
        
        try:
            outputs = self.session.run(
                [self.output_spec["name"]], 
                {self.input_spec["name"]: input_array}
            )
            
            return {
                "success": True,
                "predictions": outputs[0].tolist(),
                "output_shape": outputs[0].shape
            }
            
        except Exception as e:
            return {"error": f"Inference failed: {str(e)}"}
