# The guide's RobustONNXService (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the five lines below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List
import logging
logger = logging.getLogger(__name__)

@bentoml.service
class RobustONNXService:
    def __init__(self):
        try:
            self.session = bentoml.onnx.load_model("robust_model:latest")
            self.model_loaded = True
            
            # Test model with dummy input
            dummy_input = np.random.randn(1, *self.session.get_inputs()[0].shape[1:]).astype(np.float32)
            input_name = self.session.get_inputs()[0].name
            self.session.run(None, {input_name: dummy_input})
            
        except Exception as e:
            logger.error(f"Model initialization failed: {e}")
            self.model_loaded = False
    
    @bentoml.api
    def predict(self, input_data: List[List[float]]) -> dict:
        if not self.model_loaded:
            return {"error": "Model not available"}
        
        try:
            input_array = np.array(input_data, dtype=np.float32)
            input_name = self.session.get_inputs()[0].name
            output_name = self.session.get_outputs()[0].name
            
            outputs = self.session.run([output_name], {input_name: input_array})
            
            return {
                "success": True,
                "predictions": outputs[0].tolist()
            }
            
        except Exception as e:
            logger.error(f"ONNX inference error: {e}")
            return {"error": "Prediction failed", "details": str(e)}
