# The guide's MonitoredONNXService (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the three lines below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List

import time

@bentoml.service
class MonitoredONNXService:
    def __init__(self):
        self.session = bentoml.onnx.load_model("monitored_model:latest")
        self.inference_times = []
        self.request_count = 0
    
    @bentoml.api
    def predict_with_timing(self, input_data: List[List[float]]) -> dict:
        start_time = time.time()
        
        try:
            input_array = np.array(input_data, dtype=np.float32)
            input_name = self.session.get_inputs()[0].name
            output_name = self.session.get_outputs()[0].name
            
            outputs = self.session.run([output_name], {input_name: input_array})
            
            inference_time = time.time() - start_time
            self.inference_times.append(inference_time)
            self.request_count += 1
            
            return {
                "predictions": outputs[0].tolist(),
                "inference_time": inference_time,
                "total_requests": self.request_count,
                "average_time": sum(self.inference_times) / len(self.inference_times),
                "providers": self.session.get_providers()
            }
            
        except Exception as e:
            return {"error": str(e)}
