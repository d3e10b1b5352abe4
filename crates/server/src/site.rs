//! What the HTTP layer asks of the database beyond the core's API: the test CXRs' sizes (for
//! the submit client's local check).

use serde_json::{Map, Value, json};

use crate::{Db, ServerError};

impl Db {
    /// `{cxr_id: [height, width]}` of the test set: what a submission must cover. Ids and image
    /// sizes only, never a mask.
    pub async fn expected_sizes(&self) -> Result<Value, ServerError> {
        let (gt, _, _) = self.scoring_context().await?;
        let segs = tokio::task::spawn_blocking(move || {
            let limits = chexlocalize_io::Limits::BUILTIN;
            let path = std::path::Path::new("stored ground truth");
            let v = chexlocalize_io::parse_json(path, &gt, &limits)?;
            chexlocalize_io::parse_segmentations(path, &v, &limits)
        })
        .await
        .map_err(|e| ServerError::Scorer(format!("ground-truth reader: {e}")))?
        .map_err(|e| {
            ServerError::corrupt("stored ground truth", chexlocalize_io::chain_text(&e))
        })?;
        let mut out = Map::new();
        for cxr in segs.cxrs() {
            if let Some((_, rle)) = cxr.masks.first() {
                out.insert(cxr.cxr_id.clone(), json!([rle.height(), rle.width()]));
            }
        }
        Ok(Value::Object(out))
    }
}
