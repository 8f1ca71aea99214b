//! The per-file account of time, unpacked bytes, cells and text that every
//! parser of the crate charges as it goes, so a hostile file stops at a
//! limit instead of running on; and the collector the text goes into.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::error::{Failure, Reason, Res};
use crate::model::{Extracted, ExtractedSection, Place, Warning};
use crate::options::ExtractOptions;
use crate::text::tidy;

/// Checking the clock costs; parsers call [`Budget::tick`] per element and
/// the clock is read every this many ticks.
const TICKS_PER_CHECK: u32 = 1024;

/// Unpacked bytes allowed before the compression ratio is enforced: small
/// office files legitimately compress very well.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Limits and what has been spent against them while extracting one file
/// (nested attachments included).
pub(crate) struct Budget<'a> {
    pub(crate) options: &'a ExtractOptions,
    started: Instant,
    input_len: u64,
    cancelled: Arc<AtomicBool>,
    ticks: Cell<u32>,
    unpacked: Cell<u64>,
    cells: Cell<u64>,
}

impl<'a> Budget<'a> {
    pub(crate) fn new(
        options: &'a ExtractOptions,
        input_len: usize,
        cancelled: Arc<AtomicBool>,
    ) -> Self {
        Self {
            options,
            started: Instant::now(),
            input_len: input_len as u64,
            cancelled,
            ticks: Cell::new(0),
            unpacked: Cell::new(0),
            cells: Cell::new(0),
        }
    }

    /// Cheap: call once per element, event or record.
    pub(crate) fn tick(&self) -> Res<()> {
        let n = self.ticks.get().wrapping_add(1);
        self.ticks.set(n);
        if n.is_multiple_of(TICKS_PER_CHECK) {
            self.check_time()
        } else {
            Ok(())
        }
    }

    /// Fail once the time budget is spent or the caller stopped waiting.
    pub(crate) fn check_time(&self) -> Res<()> {
        if self.cancelled.load(Ordering::Relaxed)
            || self.started.elapsed() > self.options.time_budget()
        {
            return Err(timed_out(self.options));
        }
        Ok(())
    }

    /// Account for `n` more unpacked bytes.
    pub(crate) fn unpack(&self, n: u64) -> Res<()> {
        let total = self.unpacked.get().saturating_add(n);
        self.unpacked.set(total);
        let limit = self.options.max_uncompressed_bytes;
        if total > limit {
            return Err(Failure::too_large(format!(
                "unpacks to more than max_uncompressed_bytes = {limit} bytes"
            )));
        }
        let ratio = self.options.max_compression_ratio;
        if total > RATIO_FLOOR && total / self.input_len.max(1) >= ratio {
            return Err(Failure::too_large(format!(
                "unpacks to more than {ratio} times its size (max_compression_ratio): \
                 a zip bomb or an unusually repetitive file"
            )));
        }
        Ok(())
    }

    /// Account for `n` more spreadsheet cells.
    pub(crate) fn cells(&self, n: u64) -> Res<()> {
        let total = self.cells.get().saturating_add(n);
        self.cells.set(total);
        let limit = self.options.max_cells;
        if total > limit {
            return Err(Failure::too_large(format!(
                "more than max_cells = {limit} cells"
            )));
        }
        Ok(())
    }
}

/// The failure for a spent time budget.
pub(crate) fn timed_out(options: &ExtractOptions) -> Failure {
    Failure::new(
        Reason::TimedOut,
        format!(
            "not done within time_budget_ms = {} ms",
            options.time_budget_ms
        ),
    )
}

/// Where parsers put text: tidies each section and stops at `max_text_bytes`.
pub(crate) struct Collector {
    pub(crate) doc: Extracted,
    bytes: u64,
    limit: u64,
}

impl Collector {
    pub(crate) fn new(doc: Extracted, limit: u64) -> Self {
        Self {
            doc,
            bytes: 0,
            limit,
        }
    }

    /// Whether the text limit has been reached (parsers may stop early).
    pub(crate) fn full(&self) -> bool {
        self.bytes >= self.limit
    }

    /// Add a section; blank text is dropped.
    pub(crate) fn push(&mut self, place: Place, text: &str) {
        if self.full() {
            return;
        }
        let mut text = tidy(text);
        if text.is_empty() {
            return;
        }
        let room = self.limit - self.bytes;
        if text.len() as u64 > room {
            let mut cut = room as usize;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            self.bytes = self.limit;
            self.doc
                .warnings
                .push(Warning::Truncated { limit: self.limit });
        } else {
            self.bytes += text.len() as u64;
        }
        self.doc.sections.push(ExtractedSection { place, text });
    }

    pub(crate) fn warn(&mut self, warning: Warning) {
        self.doc.warnings.push(warning);
    }

    pub(crate) fn finish(self) -> Extracted {
        self.doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Format;

    #[test]
    fn collector_cuts_at_the_limit_on_a_char_boundary_and_warns_once() {
        let mut c = Collector::new(Extracted::empty(Format::Text), 5);
        c.push(Place::Body, "ab");
        c.push(Place::Page(2), "cdéf");
        c.push(Place::Page(3), "more");
        let doc = c.finish();
        assert_eq!(doc.sections.len(), 2);
        assert_eq!(doc.sections[1].text, "cd");
        assert_eq!(doc.warnings, vec![Warning::Truncated { limit: 5 }]);
    }

    #[test]
    fn ratio_applies_past_the_floor_only() {
        let options = ExtractOptions::default();
        let budget = Budget::new(&options, 1000, Arc::default());
        assert!(budget.unpack(RATIO_FLOOR).is_ok());
        let err = budget.unpack(100 * 1000).unwrap_err();
        assert_eq!(err.reason, Reason::TooLarge);
        assert!(err.detail.contains("max_compression_ratio"), "{err}");
    }
}
