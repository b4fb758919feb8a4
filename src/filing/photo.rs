//! One photo streamed into the store while its first and last bytes are kept for the content
//! checks; a photo that fails them is deleted again before anyone learns its key.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::FilingError;
use super::evidence::read_facts;
use crate::domain::evidence::PhotoFacts;
use crate::domain::photo::{self, HeadTail, PhotoInfo};
use crate::limits::Gate;
use crate::storage::{Area, MediaKey, MediaStore, StoreError, StoredObject};

/// A photo durable in the store, checked, with its facts read; not yet recorded.
pub(crate) struct StoredPhoto {
    pub object: StoredObject,
    pub info: PhotoInfo,
    pub facts: PhotoFacts,
}

/// What became of one photo body.
pub(crate) enum Photo {
    Stored(StoredPhoto),
    /// Not kept: the message says what the sender must replace.
    Refused(String),
}

fn refused(e: photo::PhotoError) -> Photo {
    Photo::Refused(format!("Failed to save photo: {e}"))
}

/// Streams one photo into the store, then reads its facts (EXIF, perceptual hash) from the
/// stored bytes. An error aborts the whole request (a storage failure, a client gone); a refused
/// photo is the sender's to replace.
pub(crate) async fn store_photo<S, E>(store: &MediaStore, gate: &Gate, body: S) -> Result<Photo, FilingError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display + Send,
{
    let mut body = body;
    let mut first = Bytes::new();
    while first.is_empty() {
        match body.next().await {
            Some(Ok(c)) => first = c,
            Some(Err(_)) => return Err(FilingError::Interrupted),
            None => return Ok(refused(photo::PhotoError::Empty)),
        }
    }
    let Some(format) = photo::sniff(&first) else {
        while let Some(chunk) = body.next().await {
            chunk.map_err(|_| FilingError::Interrupted)?;
        }
        return Ok(refused(photo::PhotoError::NotAnImage));
    };
    let key = MediaKey::generate(Area::Photos, format.extension());
    let seen = Arc::new(Mutex::new(HeadTail::default()));
    let watch = seen.clone();
    let stream = futures_util::stream::once(async move { Ok(first) }).chain(body).map(move |r| {
        if let Ok(b) = &r {
            watch.lock().unwrap_or_else(|p| p.into_inner()).push(b);
        }
        r
    });
    match store.put_stream(&key, stream, photo::MAX_BYTES).await {
        Ok(stored) => {
            let checked = seen.lock().unwrap_or_else(|p| p.into_inner()).inspect();
            match checked {
                Ok(info) => match read_facts(store, gate, &key).await {
                    Ok(facts) => Ok(Photo::Stored(StoredPhoto { object: stored, info, facts })),
                    Err(e) => {
                        let _ = store.delete(&key).await;
                        Err(e)
                    }
                },
                Err(e) => {
                    let _ = store.delete(&key).await;
                    Ok(refused(e))
                }
            }
        }
        Err(StoreError::TooLarge { .. }) => {
            // The store stopped at the limit; the caller drops the rest of the body.
            let size = seen.lock().unwrap_or_else(|p| p.into_inner()).size;
            Ok(refused(photo::PhotoError::TooLarge(size as f64 / 1048576.0)))
        }
        Err(StoreError::Body(_)) => Err(FilingError::Interrupted),
        Err(e) => Err(e.into()),
    }
}
