# The guide's BatchONNXService (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the three below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List

@bentoml.service
class BatchONNXService:
    def __init__(self):
        self.session = bentoml.onnx.load_model("batch_model:latest")
        self.max_batch_size = 32
        
        # Get dynamic batch info
        input_shape = self.session.get_inputs()[0].shape
        self.batch_dim = 0 if isinstance(input_shape[0], str) else None
    
    @bentoml.api
    def batch_inference(self, inputs: List[List[float]]) -> List[dict]:
        results = []
        
        # Process in batches
        for i in range(0, len(inputs), self.max_batch_size):
            batch = inputs[i:i + self.max_batch_size]
            batch_array = np.array(batch, dtype=np.float32)
            
            # Run inference
            input_name = self.session.get_inputs()[0].name
            output_name = self.session.get_outputs()[0].name
            
            batch_outputs = self.session.run([output_name], {input_name: batch_array})
            
            # Process batch results
            for j, output in enumerate(batch_outputs[0]):
                results.append({
                    "input_index": i + j,
                    "prediction": output.tolist()
                })
        
        return results
