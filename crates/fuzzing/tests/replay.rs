//! Replays the committed fuzz seeds and crash regressions (`fuzz/seeds/<target>/`,
//! `fuzz/regressions/<target>/`) through the target bodies: none may panic.

use std::path::Path;

#[test]
fn seeds_and_regressions_replay_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for (name, body) in chexlocalize_fuzzing::TARGETS {
        let mut files = 0;
        for kind in ["seeds", "regressions"] {
            let dir = root.join(kind).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let p = e.expect("list").path();
                let bytes = std::fs::read(&p).expect("read");
                body(&bytes);
                files += 1;
            }
        }
        assert!(files > 0, "no seeds for fuzz target {name}");
        replayed += files;
    }
    eprintln!("{replayed} inputs replayed");
}
