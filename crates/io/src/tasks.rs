//! The CheXlocalize task names.

use std::fmt;

/// One of the ten CheXlocalize localisation tasks (pathologies).
///
/// [`Task::ALL`] is in the reference's `LOCALIZATION_TASKS` order; most outputs iterate in
/// [`Task::SORTED`] order (the reference's `sorted(LOCALIZATION_TASKS)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    /// "Airspace Opacity" (also accepted as "Lung Opacity", the competition page's name).
    AirspaceOpacity,
    /// "Atelectasis".
    Atelectasis,
    /// "Cardiomegaly".
    Cardiomegaly,
    /// "Consolidation".
    Consolidation,
    /// "Edema".
    Edema,
    /// "Enlarged Cardiomediastinum".
    EnlargedCardiomediastinum,
    /// "Lung Lesion".
    LungLesion,
    /// "Pleural Effusion".
    PleuralEffusion,
    /// "Pneumothorax".
    Pneumothorax,
    /// "Support Devices".
    SupportDevices,
}

impl Task {
    /// The reference's `LOCALIZATION_TASKS` order (`eval_constants.py`).
    pub const ALL: [Task; 10] = [
        Task::EnlargedCardiomediastinum,
        Task::Cardiomegaly,
        Task::LungLesion,
        Task::AirspaceOpacity,
        Task::Edema,
        Task::Consolidation,
        Task::Atelectasis,
        Task::Pneumothorax,
        Task::PleuralEffusion,
        Task::SupportDevices,
    ];

    /// `sorted(LOCALIZATION_TASKS)`: alphabetical by name (also the enum's `Ord`).
    pub const SORTED: [Task; 10] = [
        Task::AirspaceOpacity,
        Task::Atelectasis,
        Task::Cardiomegaly,
        Task::Consolidation,
        Task::Edema,
        Task::EnlargedCardiomediastinum,
        Task::LungLesion,
        Task::PleuralEffusion,
        Task::Pneumothorax,
        Task::SupportDevices,
    ];

    /// The canonical name, as in the reference's files.
    pub fn name(self) -> &'static str {
        match self {
            Task::AirspaceOpacity => "Airspace Opacity",
            Task::Atelectasis => "Atelectasis",
            Task::Cardiomegaly => "Cardiomegaly",
            Task::Consolidation => "Consolidation",
            Task::Edema => "Edema",
            Task::EnlargedCardiomediastinum => "Enlarged Cardiomediastinum",
            Task::LungLesion => "Lung Lesion",
            Task::PleuralEffusion => "Pleural Effusion",
            Task::Pneumothorax => "Pneumothorax",
            Task::SupportDevices => "Support Devices",
        }
    }

    /// Parses a task name; "Lung Opacity" (CheXpert's and the competition page's name) is accepted
    /// as an alias of "Airspace Opacity". Returns `None` for anything else.
    pub fn from_name(name: &str) -> Option<Task> {
        if name == "Lung Opacity" {
            return Some(Task::AirspaceOpacity);
        }
        Task::SORTED.into_iter().find(|t| t.name() == name)
    }

    /// Index of this task in the 14-element CheXpert probability vector (`CHEXPERT_TASKS`).
    pub fn chexpert_index(self) -> usize {
        let name = self.name();
        CHEXPERT_TASKS
            .iter()
            .position(|t| *t == name)
            .unwrap_or_else(|| unreachable!("every localisation task is a CheXpert task"))
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The 14 CheXpert labels, in the order of a model's probability vector (`CHEXPERT_TASKS`).
pub const CHEXPERT_TASKS: [&str; 14] = [
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Lesion",
    "Airspace Opacity",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_is_alphabetical_and_ord() {
        let mut names: Vec<&str> = Task::ALL.iter().map(|t| t.name()).collect();
        names.sort_unstable();
        let sorted: Vec<&str> = Task::SORTED.iter().map(|t| t.name()).collect();
        assert_eq!(names, sorted);
        let mut all = Task::ALL;
        all.sort();
        assert_eq!(all, Task::SORTED);
    }

    #[test]
    fn names_round_trip_and_alias() {
        for t in Task::ALL {
            assert_eq!(Task::from_name(t.name()), Some(t));
        }
        assert_eq!(Task::from_name("Lung Opacity"), Some(Task::AirspaceOpacity));
        assert_eq!(Task::from_name("airspace opacity"), None);
        // Indices from eval_constants.py CHEXPERT_TASKS.
        assert_eq!(Task::AirspaceOpacity.chexpert_index(), 4);
        assert_eq!(Task::SupportDevices.chexpert_index(), 13);
        assert_eq!(Task::Atelectasis.chexpert_index(), 8);
    }
}
