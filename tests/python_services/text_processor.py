# The guide's ONNXTextProcessor (BentoML's ONNX guide), verbatim. The guide shows it without
# imports; the three below are added, with `import bento as bentoml` for BentoML's.
import bento as bentoml
import numpy as np
from typing import List

@bentoml.service
class ONNXTextProcessor:
    def __init__(self):
        self.session = bentoml.onnx.load_model("text_classifier:latest")
        
        # Get input/output specifications
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        
        # Load tokenizer and vocabulary
        model_ref = bentoml.onnx.get("text_classifier:latest")
        self.vocab = model_ref.custom_objects.get("vocab", {})
        self.max_length = model_ref.metadata.get("max_length", 128)
        self.class_names = model_ref.custom_objects.get("class_names", [])
    
    def tokenize_text(self, text: str) -> np.ndarray:
        # Simple tokenization (in practice, use proper tokenizer)
        tokens = text.lower().split()
        
        # Convert to IDs
        token_ids = [self.vocab.get(token, 0) for token in tokens]  # 0 for unknown
        
        # Pad or truncate to max_length
        if len(token_ids) < self.max_length:
            token_ids += [0] * (self.max_length - len(token_ids))
        else:
            token_ids = token_ids[:self.max_length]
        
        # Convert to numpy array with batch dimension
        return np.array([token_ids], dtype=np.int64)
    
    @bentoml.api
    def classify_text(self, text: str) -> dict:
        # Tokenize input
        input_ids = self.tokenize_text(text)
        
        # Run inference
        outputs = self.session.run([self.output_name], {self.input_name: input_ids})
        predictions = outputs[0][0]  # Remove batch dimension
        
        # Apply softmax to get probabilities
        exp_preds = np.exp(predictions - np.max(predictions))
        probabilities = exp_preds / np.sum(exp_preds)
        
        predicted_class = np.argmax(probabilities)
        confidence = float(probabilities[predicted_class])
        
        return {
            "text": text,
            "predicted_class": int(predicted_class),
            "predicted_class_name": self.class_names[predicted_class] if predicted_class < len(self.class_names) else None,
            "confidence": confidence,
            "probabilities": probabilities.tolist()
        }
