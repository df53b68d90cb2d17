//! Summaries of repeated measurements: median, spread and tail percentiles.

use std::time::Duration;

/// A sorted sample of durations.
#[derive(Debug, Clone)]
pub struct Sample {
    sorted: Vec<Duration>,
}

impl Sample {
    pub fn new(mut values: Vec<Duration>) -> Self {
        values.sort_unstable();
        Self { sorted: values }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The value at quantile `q` (0.0–1.0), nearest-rank; zero for an empty sample.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }

    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    pub fn min(&self) -> Duration {
        self.sorted.first().copied().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }
}

/// Milliseconds with two decimals, for tables.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// Microseconds with one decimal, for tables.
pub fn us(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let sample = Sample::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(sample.median(), Duration::from_millis(50));
        assert_eq!(sample.p99(), Duration::from_millis(99));
        assert_eq!(sample.min(), Duration::from_millis(1));
        assert_eq!(sample.max(), Duration::from_millis(100));
    }

    #[test]
    fn an_empty_sample_reports_zero() {
        let empty = Sample::new(Vec::new());
        assert!(empty.is_empty());
        assert_eq!(empty.p99(), Duration::ZERO);
    }
}
