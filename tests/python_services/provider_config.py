# The guide's OptimizedONNXService (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the three below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List

@bentoml.service(resources={"gpu": "1"})
class OptimizedONNXService:
    def __init__(self):
        # Configure optimized providers
        providers = [
            ("CUDAExecutionProvider", {
                "device_id": 0,
                "arena_extend_strategy": "kSameAsRequested",
                "gpu_mem_limit": 4 * 1024 * 1024 * 1024,  # 4GB
                "cudnn_conv_algo_search": "EXHAUSTIVE"
            }),
            ("CPUExecutionProvider", {
                "intra_op_num_threads": 4,
                "inter_op_num_threads": 4
            })
        ]
        
        # Create session with optimizations
        self.session = bentoml.onnx.load_model("optimized_model:latest", providers=providers)
    
    @bentoml.api
    def optimized_inference(self, input_data: List[List[float]]) -> dict:
        input_array = np.array(input_data, dtype=np.float32)
        
        # Run with optimized session
        input_name = self.session.get_inputs()[0].name
        output_name = self.session.get_outputs()[0].name
        
        outputs = self.session.run([output_name], {input_name: input_array})
        
        return {
            "results": outputs[0].tolist(),
            "provider": self.session.get_providers()[0]
        }
