import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import mask as mask

_Path = Union[str, "os.PathLike[str]"]

LOCALIZATION_TASKS: Tuple[str, ...]

class LimitError(ValueError): ...

def load_heatmap(path: _Path, **limits: int) -> Dict[str, Any]: ...
def heatmap_to_mask(
    heatmap: Union[npt.ArrayLike, Dict[str, Any]],
    cxr_dims: Optional[Tuple[int, int]] = None,
    threshold: Optional[float] = None,
    smoothing_k: Optional[int] = None,
    **limits: int,
) -> npt.NDArray[np.bool_]: ...
def annotation_to_mask(
    polygons: Sequence[Sequence[Sequence[float]]], img_size: Tuple[int, int], **limits: int
) -> npt.NDArray[np.bool_]: ...
def heatmaps_to_segmentations(
    map_dir: _Path,
    threshold_path: Optional[_Path] = None,
    probability_threshold_path: Optional[_Path] = None,
    smoothing_k: Optional[int] = None,
    jobs: Optional[int] = None,
    **limits: int,
) -> Dict[str, Dict[str, Dict[str, Any]]]: ...
def evaluate(
    gt: Union[_Path, Dict[str, Any]],
    pred: Union[_Path, Dict[str, Any]],
    metric: str = "iou",
    true_pos_only: bool = True,
    seed: int = 0,
    if_human_benchmark: bool = False,
    jobs: Optional[int] = None,
    **limits: int,
) -> Dict[str, Any]: ...
def tune_heatmap_threshold(
    map_dir: _Path,
    gt: Union[_Path, Dict[str, Any]],
    thresholds: Optional[Sequence[float]] = None,
    jobs: Optional[int] = None,
    **limits: int,
) -> Dict[str, Any]: ...
def validate_submission(
    seg: Union[_Path, Dict[str, Any]],
    expected: _Path,
    map_dir: Optional[_Path] = None,
    images_root: Optional[_Path] = None,
    jobs: Optional[int] = None,
    **limits: int,
) -> List[Dict[str, Any]]: ...
