# The guide's ONNXObjectDetector (BentoML's ONNX guide) on the project's real detector,
# PP-OCRv4's text detector ("object_detector", examples/object_detector/save-model), whose
# answers equal the C++ example's (examples/object_detector/object_detector.cc). The guide's
# code, with `import bento as bentoml` and the three imports it leaves out, and these changes,
# each marked in the code:
# - preprocess_image: the guide resizes to the model's fixed input shape; this model's H and W
#   are dynamic, so the image is resized as PaddleOCR's DetResizeForTest does (each side a
#   multiple of 32, the longer at most limit_side_len), converted to RGB first (the guide's
#   np.transpose needs three channels; page.png is gray), and normalized as PaddleOCR's
#   NormalizeImage on BGR planes, with mean and std from the model's custom objects
#   (PP-OCR was trained on OpenCV's BGR images); cast to float32 (the float64 mean made it
#   float64). Pillow's bilinear filter is what bento's C++ resize reproduces bit for bit, so
#   the tensor is the C++ example's, bit for bit.
# - postprocess_detections: the guide reads YOLO-style boxes and scores; this model outputs a
#   text probability map [batch, 1, H, W] (the guide: "this depends on your specific model"),
#   so its body turns the map into boxes as the C++ example does (bento/ocr.h, detection.h):
#   8-connected regions above mask_threshold, one box per region (grown by the unclip ratio,
#   regions under 3 pixels dropped) scored by its mean probability, the boxes over
#   confidence_threshold, non-maximum suppression with nms_threshold, scaled to the original
#   image and sorted in reading order. The helpers below the imports do it in numpy. One
#   class: "text" (the model's class_names).
# - __init__ also reads preprocessing_params (custom objects), mask_threshold and
#   unclip_ratio (metadata), which the two steps above use.
# The answer's keys and values are the guide's: detections (bbox, class_id, class_name,
# confidence), num_detections, image_size and confidence_threshold.
import bento as bentoml
import numpy as np
from PIL import Image

# PP-OCR's detector normalization, B, G, R (bento/ocr.h kDetectorMean, kDetectorStd).
DETECTOR_MEAN = [0.485, 0.456, 0.406]
DETECTOR_STD = [0.229, 0.224, 0.225]
MIN_SIZE = 3  # regions narrower or lower than this (before growing) are dropped
MAX_CANDIDATES = 1000  # at most this many regions are considered, in scan order


def detector_size(width, height, limit_side_len):
    """DetResizeForTest (limit_type "max"): scaled down so that the longer side is
    limit_side_len when it is longer, each side rounded to a multiple of 32 (Python's round:
    ties to even), at least 32. Returns (width, height)."""
    ratio = limit_side_len / max(width, height) if max(width, height) > limit_side_len else 1.0
    return tuple(max(round(int(side * ratio) / 32) * 32, 32) for side in (width, height))


def map_regions(probability_map, mask_threshold, max_candidates=MAX_CANDIDATES):
    """The 8-connected regions of the pixels over mask_threshold (a float32 threshold, as the
    C++ code compares) of an [H, W] map, in row-major order of each region's first pixel, at
    most max_candidates: (x1, y1, x2, y2, mean probability), the box covering [x1, x2) x
    [y1, y2). Found from the runs of such pixels in each row, joined when runs in adjacent
    rows touch (diagonals too)."""
    h, w = probability_map.shape
    mask = np.zeros((h, w + 2), dtype=np.int8)
    mask[:, 1:-1] = probability_map > np.float32(mask_threshold)
    edges = np.diff(mask, axis=1)
    rows, starts = np.nonzero(edges == 1)  # row-major order; a run covers [start, end)
    ends = np.nonzero(edges == -1)[1]
    if len(starts) == 0:
        return []
    # The runs of the row above that touch each run: [first, last) in run order.
    start_keys, end_keys = rows * (w + 2) + starts, rows * (w + 2) + ends
    above = (rows - 1) * (w + 2)
    first = np.searchsorted(end_keys, above + starts, side="left")
    last = np.searchsorted(start_keys, above + ends, side="right")
    parent = list(range(len(starts)))  # union-find; a region's root is its first run

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (lo, hi) in enumerate(zip(first.tolist(), last.tolist())):
        for j in range(lo, hi):
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(len(starts))])
    firsts = np.unique(roots)[:max_candidates]
    y1 = rows[firsts]  # a region's first run is in its top row
    keep = roots <= firsts[-1]
    region = np.searchsorted(firsts, roots[keep])
    rows, starts, ends = rows[keep], starts[keep], ends[keep]
    n = len(firsts)
    x1, x2, y2 = np.full(n, w), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    np.minimum.at(x1, region, starts)
    np.maximum.at(x2, region, ends)
    np.maximum.at(y2, region, rows + 1)
    sums = np.zeros((h, w + 1))
    sums[:, 1:] = np.cumsum(probability_map, axis=1, dtype=np.float64)
    total = np.bincount(region, weights=sums[rows, ends] - sums[rows, starts], minlength=n)
    pixels = np.bincount(region, weights=ends - starts, minlength=n)
    return list(zip(x1.tolist(), y1.tolist(), x2.tolist(), y2.tolist(),
                    (total / pixels).tolist()))


def iou(a, b):
    """Intersection over union of two boxes (x1, y1, x2, y2, ...); 0 when the union is empty."""
    def area(x1, y1, x2, y2):
        return (x2 - x1 if x2 > x1 else 0) * (y2 - y1 if y2 > y1 else 0)
    inter = area(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    union = area(*a[:4]) + area(*b[:4]) - inter
    return inter / union if union > 0 else 0


def text_boxes(probability_map, image_size, confidence_threshold, nms_threshold,
               mask_threshold, unclip_ratio):
    """The text boxes of the detector's [1, 1, H, W] map in the original image's pixels,
    sorted by top edge, then left edge: [x1, y1, x2, y2, score] floats."""
    probability_map = probability_map[0, 0]
    h, w = probability_map.shape
    boxes = []
    for x1, y1, x2, y2, score in map_regions(probability_map, mask_threshold):
        width, height = x2 - x1, y2 - y1
        if width < MIN_SIZE or height < MIN_SIZE:
            continue
        # DBNet's unclip: grow by area * ratio / perimeter, undoing its labels' shrinking.
        grow = width * height * unclip_ratio / (2 * (width + height))
        box = [max(x1 - grow, 0.0), max(y1 - grow, 0.0), min(x2 + grow, float(w)),
               min(y2 + grow, float(h)), score]
        if box[4] > confidence_threshold:
            boxes.append(box)
    # Non-maximum suppression: by decreasing score (ties: scan order), a box is kept unless it
    # overlaps a kept one by more than nms_threshold.
    kept = []
    for box in sorted(boxes, key=lambda b: -b[4]):
        if all(iou(box, k) <= nms_threshold for k in kept):
            kept.append(box)
    # Scaled from the map to the original image, clipped to it.
    width, height = image_size
    sx, sy = width / w, height / h
    scaled = [[min(max(b[0] * sx, 0.0), width), min(max(b[1] * sy, 0.0), height),
               min(max(b[2] * sx, 0.0), width), min(max(b[3] * sy, 0.0), height), b[4]]
              for b in kept]
    return sorted(scaled, key=lambda b: (b[1], b[0]))


@bentoml.service(
    resources={"gpu": "1", "memory": "6Gi"}
)
class ONNXObjectDetector:
    def __init__(self):
        self.session = bentoml.onnx.load_model(
            "object_detector:latest",
            providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
        )
        
        # Get model I/O info
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.input_shape = self.session.get_inputs()[0].shape
        
        # Load detection parameters
        model_ref = bentoml.onnx.get("object_detector:latest")
        self.class_names = model_ref.custom_objects.get("class_names", [])
        self.confidence_threshold = model_ref.metadata.get("confidence_threshold", 0.5)
        self.nms_threshold = model_ref.metadata.get("nms_threshold", 0.4)
        # added: PP-OCR's preprocessing and probability map thresholds
        self.preprocessing_params = model_ref.custom_objects.get("preprocessing_params", {})
        self.mask_threshold = model_ref.metadata.get("mask_threshold", 0.3)
        self.unclip_ratio = model_ref.metadata.get("unclip_ratio", 1.5)
    
    def preprocess_image(self, image: Image.Image) -> tuple:
        # Store original dimensions
        original_width, original_height = image.size
        
        # Resize to model input size
        # changed: H and W are dynamic; PaddleOCR's size (multiples of 32), RGB, bilinear
        limit_side_len = self.preprocessing_params.get("limit_side_len", 960)
        target_width, target_height = detector_size(original_width, original_height,
                                                    limit_side_len)
        resized_image = image.convert("RGB").resize((target_width, target_height),
                                                    Image.BILINEAR)
        
        # Convert to numpy array
        image_array = np.array(resized_image, dtype=np.float32) / 255.0
        
        # added: BGR planes, normalized as PaddleOCR's NormalizeImage, back to float32
        mean = np.array(self.preprocessing_params.get("mean", DETECTOR_MEAN))
        std = np.array(self.preprocessing_params.get("std", DETECTOR_STD))
        image_array = ((image_array[:, :, ::-1] - mean) / std).astype(np.float32)
        
        # Transpose and add batch dimension
        image_array = np.transpose(image_array, (2, 0, 1))
        image_array = np.expand_dims(image_array, axis=0)
        
        return image_array, (original_width, original_height)
    
    def postprocess_detections(self, outputs, original_size):
        # Process ONNX model outputs (this depends on your specific model)
        # changed: PP-OCR's text probability map [batch, 1, H, W]: its regions, the confidence
        # threshold, NMS and scaling to the original image size (text_boxes, above)
        boxes = text_boxes(outputs[0], original_size, self.confidence_threshold,
                           self.nms_threshold, self.mask_threshold, self.unclip_ratio)
        
        detections = []
        
        for x1, y1, x2, y2, max_score in boxes:
            class_id = 0  # changed: one class, text
            
            detections.append({
                "bbox": [int(x1), int(y1), int(x2), int(y2)],
                "class_id": int(class_id),
                "class_name": self.class_names[class_id] if class_id < len(self.class_names) else f"class_{class_id}",
                "confidence": float(max_score)
            })
        
        return detections
    
    @bentoml.api
    def detect_objects(self, image: Image.Image) -> dict:
        # Preprocess image
        input_data, original_size = self.preprocess_image(image)
        
        # Run inference
        outputs = self.session.run(self.output_names, {self.input_name: input_data})
        
        # Postprocess detections
        detections = self.postprocess_detections(outputs, original_size)
        
        return {
            "detections": detections,
            "num_detections": len(detections),
            "image_size": original_size,
            "confidence_threshold": self.confidence_threshold
        }
