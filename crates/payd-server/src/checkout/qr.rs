//! QR codes drawn on the server as inline SVG: the `qrcode` crate's encoder, and one `<path>`
//! of horizontal runs written here (the crate's own SVG writer draws every module on its own,
//! about five times the bytes for a payment URI). No image request, no script, and the page's
//! CSP needs nothing extra.

use std::fmt::Write;

use qrcode::{Color, EcLevel, QrCode};

/// The light border around the code, in modules (the QR standard asks for four).
const QUIET: usize = 4;

/// `data` as an inline `<svg>` element named `label` for screen readers, one unit per module
/// (CSS sizes it); `None` when the data does not fit a QR code (it always does for an address
/// or a payment URI).
pub fn svg(data: &str, label: &str) -> Option<String> {
    // Level M: survives a smudged or glared phone screen, still small for an EIP-681 URI.
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    let label: String = label.chars().filter(|c| !matches!(c, '"' | '<' | '>' | '&')).collect();
    let mut out = format!(
        "<svg class=\"qr\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
                // Writing to a String cannot fail.
                let _ = write!(out, "M{} {}h{run}v1h-{run}z", x + QUIET, y + QUIET);
                x += run;
            } else {
                x += 1;
            }
        }
    }
    out.push_str("\"/></svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_is_an_inline_element_with_a_label_and_one_path() {
        let s = svg("ethereum:0xabc@1/transfer?address=0xdef&uint256=1", "QR").unwrap_or_default();
        assert!(s.starts_with("<svg class=\"qr\" role=\"img\" aria-label=\"QR\" "), "{s}");
        assert!(!s.contains("<?xml") && s.matches("<path").count() == 1, "{s}");
        assert!(s.contains("viewBox=\"0 0 ") && s.ends_with("</svg>"), "{s}");
    }
}
