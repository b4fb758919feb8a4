//! A bounded in-memory copy of small objects that are read again and again: thumbnails,
//! screen-size previews, small photos. A hit is answered without touching the disk or the
//! bucket (on a review page, 19 thumbnails cost 19 blocking-pool hops each without it).
//!
//! Objects are never rewritten under the same key (keys are random and a write never
//! replaces one), so a cached copy is never stale in content. It can outlive a deletion: a
//! delete through this process forgets the key at once (and a read racing it is not kept); one
//! made by another instance (or an offline `fsck --repair`) is noticed within [`FRESH_FOR`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How long a copy is answered before the store is asked again.
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// An object's bytes and what a response says of them.
#[derive(Debug)]
pub struct HotObject {
    pub bytes: Bytes,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub etag: String,
    pub content_type: &'static str,
    pub(super) loaded: Instant,
}

impl HotObject {
    pub fn new(
        bytes: Bytes,
        last_modified: chrono::DateTime<chrono::Utc>,
        etag: String,
        content_type: &'static str,
    ) -> HotObject {
        HotObject { bytes, last_modified, etag, content_type, loaded: Instant::now() }
    }
}

#[derive(Clone)]
struct BySize;

impl quick_cache::Weighter<String, Arc<HotObject>> for BySize {
    fn weight(&self, key: &String, val: &Arc<HotObject>) -> u64 {
        // The entry's own bookkeeping counts too, so a flood of tiny objects stays bounded.
        (val.bytes.len() + key.len() + 128) as u64
    }
}

/// The cache; `None` inside when sized 0 (off).
pub struct HotCache {
    cache: Option<quick_cache::sync::Cache<String, Arc<HotObject>, BySize>>,
    max_object: u64,
    /// Counts deletions: a read that began before one is not kept, so a fetch racing a
    /// delete of its key cannot put the deleted object back.
    deletions: AtomicU64,
}

impl std::fmt::Debug for HotCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotCache")
            .field("capacity", &self.cache.as_ref().map_or(0, |c| c.capacity()))
            .field("max_object", &self.max_object)
            .finish()
    }
}

impl HotCache {
    /// A cache of at most `capacity` bytes keeping objects of at most `max_object` bytes.
    pub fn new(capacity: u64, max_object: u64) -> HotCache {
        if capacity == 0 || max_object == 0 {
            return HotCache::off();
        }
        let max_object = max_object.min(capacity / 8).max(1);
        let items = (capacity / 32_768).clamp(16, 1 << 20) as usize;
        HotCache {
            cache: Some(quick_cache::sync::Cache::with_weighter(items, capacity, BySize)),
            max_object,
            deletions: AtomicU64::new(0),
        }
    }

    pub fn off() -> HotCache {
        HotCache { cache: None, max_object: 0, deletions: AtomicU64::new(0) }
    }

    /// The largest object kept; 0 when the cache is off.
    pub fn max_object(&self) -> u64 {
        self.max_object
    }

    pub fn get(&self, key: &str) -> Option<Arc<HotObject>> {
        let cache = self.cache.as_ref()?;
        let hit = cache.get(key)?;
        if hit.loaded.elapsed() < FRESH_FOR {
            metrics::counter!("atm_media_cache_total", "outcome" => "hit").increment(1);
            return Some(hit);
        }
        cache.remove(key);
        None
    }

    /// Where deletions stand, to pass to [`HotCache::keep`] after a read.
    pub fn mark(&self) -> u64 {
        self.deletions.load(Ordering::SeqCst)
    }

    /// Keeps an object read since `mark`, unless something was deleted meanwhile.
    pub fn keep(&self, key: &str, object: Arc<HotObject>, mark: u64) {
        if let Some(cache) = &self.cache
            && object.bytes.len() as u64 <= self.max_object
            && self.mark() == mark
        {
            metrics::counter!("atm_media_cache_total", "outcome" => "miss").increment(1);
            cache.insert(key.to_string(), object);
        }
    }

    /// Forgets a key being deleted; called before and after the deletion itself.
    pub fn forget(&self, key: &str) {
        self.deletions.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            cache.remove(key);
        }
    }

    /// Bytes held now (the entries' weights).
    pub fn held(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.weight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(len: usize) -> Arc<HotObject> {
        Arc::new(HotObject::new(
            Bytes::from(vec![7u8; len]),
            chrono::Utc::now(),
            "\"e\"".into(),
            "image/jpeg",
        ))
    }

    #[test]
    fn keeps_small_objects_within_its_capacity_and_forgets_on_request() {
        let cache = HotCache::new(1 << 20, 64 << 10);
        let mark = cache.mark();
        cache.keep("photos/a.jpg", object(1000), mark);
        assert_eq!(cache.get("photos/a.jpg").map(|o| o.bytes.len()), Some(1000));
        cache.keep("photos/big.jpg", object((64 << 10) + 1), mark);
        assert!(cache.get("photos/big.jpg").is_none(), "larger than an object may be");
        for i in 0..200 {
            cache.keep(&format!("photos/{i}.jpg"), object(60 << 10), mark);
        }
        assert!(cache.held() <= 1 << 20, "held {} of {}", cache.held(), 1 << 20);
        cache.keep("photos/b.jpg", object(10), mark);
        cache.forget("photos/b.jpg");
        assert!(cache.get("photos/b.jpg").is_none());
    }

    #[test]
    fn a_read_that_began_before_a_deletion_is_not_kept() {
        let cache = HotCache::new(1 << 20, 64 << 10);
        let mark = cache.mark();
        cache.forget("photos/a.jpg");
        cache.keep("photos/a.jpg", object(10), mark);
        assert!(cache.get("photos/a.jpg").is_none(), "the deleted object came back");
    }

    #[test]
    fn off_keeps_nothing() {
        let cache = HotCache::new(0, 1 << 20);
        cache.keep("photos/a.jpg", object(10), 0);
        assert!(cache.get("photos/a.jpg").is_none());
        assert_eq!(cache.max_object(), 0);
    }
}
