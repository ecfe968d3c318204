//! What the generated address conversions cost, decided by the layout: an
//! add of a constant, or a load of a per-mode (or per-boot) offset first.
//! `layoutgen show` prints it; the templates emit mode-free conversions
//! when the linear map does not move with the mode.

use super::Layout;

/// The linear map's VA−PA offset if it is the same in every mode (and
/// every mode has one).
pub fn common_linear_offset(layout: &Layout) -> Option<u64> {
    let first = layout.modes.first()?.linear_offset?;
    layout
        .modes
        .iter()
        .all(|m| m.linear_offset == Some(first) && m.page_offset == layout.modes[0].page_offset)
        .then_some(first)
}

/// One line: what `phys_to_virt`/`virt_to_phys` and the image conversions
/// compile to for this layout.
pub fn summary(layout: &Layout) -> String {
    let linear = match (common_linear_offset(layout), layout.modes.len()) {
        _ if layout.modes.iter().all(|m| m.page_offset.is_none()) => {
            "no linear map (no phys_to_virt)".to_string()
        }
        (Some(_), 1) => "phys_to_virt/virt_to_phys: add/subtract of a constant (0 loads)".into(),
        (Some(_), n) => format!(
            "phys_to_virt/virt_to_phys: add/subtract of a constant in all {n} modes (0 loads, mode-free)"
        ),
        (None, n) => format!(
            "phys_to_virt/virt_to_phys: 1 load of the mode's LINEAR_OFFSET, then add/subtract (the linear map moves across the {n} modes)"
        ),
    };
    let image = if layout.code_model.is_relocatable() {
        "kernel_virt_to_phys: subtract of a constant at the link address; at a KASLR position the kernel adds its boot-time offset (a variable)"
    } else {
        "kernel_virt_to_phys/kernel_phys_to_virt: subtract/add of a constant (0 loads)"
    };
    format!("conversions: {linear}; {image}")
}
