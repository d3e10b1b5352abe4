//! The submission-format and tutorial page (what the original site left "in progress").

use chexlocalize_io::Task;

use super::{esc, layout};

/// The page: file formats, the ten tasks, how masks are encoded, example commands.
pub(crate) fn format_page(competition: &str, max_upload_bytes: u64) -> String {
    let mut tasks = String::new();
    for t in Task::SORTED {
        tasks.push_str(&format!("<li><code>{}</code></li>", esc(t.name())));
    }
    let body = format!(
        r#"<h1>How to submit</h1>
<p>{competition} scores binary segmentation masks of ten pathologies on a hidden test set of
chest X-rays against radiologists' segmentations with mIoU (intersection over union per task,
averaged over the CXRs where the finding is present and predicted), with 95% bootstrap
confidence intervals. Optionally, per-pixel confidence maps are scored with the pointing game
(hit rate: is the most confident pixel inside the finding?).</p>

<h2>1. The segmentation file</h2>
<p>One JSON object with a key for every test CXR, and under it one mask for each of the ten
tasks (an empty mask where you predict nothing):</p>
<pre>{{
  "patient64622_study1_view1_frontal": {{
    "Airspace Opacity": {{"size": [2320, 2828], "counts": "Pj]e0a1..."}},
    "Atelectasis":      {{"size": [2320, 2828], "counts": "..."}},
    ...
  }},
  ...
}}</pre>
<p>The ten tasks:</p><ul class="tasks">{tasks}</ul>
<p>Masks are run-length encoded exactly as pycocotools' <code>mask.encode</code> does
(column-major runs, compressed counts string): <code>size</code> is <code>[height, width]</code>
of the X-ray, and every mask of a CXR has that size. In Python:</p>
<pre>import numpy as np
from pycocotools import mask as mask_util
rle = mask_util.encode(np.asfortranarray(binary_mask.astype(np.uint8)))
rle["counts"] = rle["counts"].decode()   # bytes to text for JSON</pre>
<p>Or from heatmaps and polygons, with this project's command line:</p>
<pre>chexlocalize heatmap-to-segmentation --map-dir my_heatmaps/ --output-path my_segmentations.json
chexlocalize annotation-to-segmentation --ann-path my_polygons.json --output-path my_segmentations.json</pre>

<h2>2. Optional: confidence maps for the pointing game</h2>
<p>A folder of one file per CXR and task, named <code>&lt;cxr_id&gt;_&lt;task&gt;_map.pkl</code>
(or <code>.pt</code>, or <code>.npy</code> with a JSON sidecar), in the format of CheXlocalize's
<code>gradcam_maps_val</code>: a record with the map, the CXR's size and the model's
probability. Nothing in these files is ever executed.</p>

<h2>3. Check, then submit</h2>
<pre>chexlocalize submit --server https://this-server --token $TOKEN \
    --seg-path my_segmentations.json [--map-dir my_heatmaps/] --note "Grad-CAM, Otsu" --wait</pre>
<p><code>submit</code> first runs the server's own validator on your machine (every problem at
once: missing CXRs or tasks, wrong sizes, corrupt RLE), uploads only a clean submission, prints
its id, and with <code>--wait</code> its public scores. Uploads are limited to
{max_mb} MB. The same check alone: <code>chexlocalize validate-submission</code>.</p>

<h2>4. Scores and the final ranking</h2>
<p>The test set is split by patient into a public and a private part. Until the end of the
phase the leaderboard shows public-split scores; each team then selects its final submissions
(<code>POST /api/submissions/ID/select</code>, or on the team page), and the final leaderboard
ranks them on the private split. Submissions per day are limited; a rejected upload does not
count.</p>"#,
        competition = esc(competition),
        max_mb = max_upload_bytes / 1_000_000,
    );
    layout("How to submit", &body)
}
