//! Full-text search over the standard responses (tantivy): an index in memory over each live
//! response's name, subject and text, rebuilt from the responses projection (itself rebuilt from
//! the log) whenever that has changed since the index was built. Responses change rarely, so a
//! whole rebuild at the first search after a change keeps one rule, the index is what the log
//! says, at a cost not yet measured (no figure in BENCHMARKS.md).
//!
//! Words are matched case-insensitively with accents folded (`Rückerstattung` finds
//! `ruckerstattung`), ranked by BM25 with a word in the name counting three times and in the
//! subject twice; user input is read leniently (quotes, `+`, `-` and field names work, nothing
//! is an error).

use super::responses::Responses;
use crate::domain::standard_response::ResponseId;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument};

const TOKENIZER: &str = "folded";

struct Built {
    generation: u64,
    index: Index,
    reader: IndexReader,
    id: Field,
    name: Field,
    subject: Field,
    text: Field,
}

/// The search index, built on demand. Cheap to share (one per server).
#[derive(Default)]
pub struct ResponseSearch {
    built: Mutex<Option<Built>>,
}

impl std::fmt::Debug for ResponseSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseSearch").finish_non_exhaustive()
    }
}

fn build(responses: &Responses) -> tantivy::Result<Built> {
    let mut schema = Schema::builder();
    let id = schema.add_text_field("id", STRING | STORED);
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let name = schema.add_text_field("name", words.clone());
    let subject = schema.add_text_field("subject", words.clone());
    let text = schema.add_text_field("text", words);
    let index = Index::create_in_ram(schema.build());
    index.tokenizers().register(
        TOKENIZER,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
    // The smallest budget tantivy accepts; one thread.
    let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
    for (rid, r) in responses.live() {
        let Some(f) = &r.fields else { continue };
        writer.add_document(doc!(
            id => rid.0.to_string(),
            name => f.name.as_str(),
            subject => f.subject.as_str(),
            text => f.text.as_str(),
        ))?;
    }
    writer.commit()?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    reader.reload()?;
    Ok(Built {
        generation: responses.generation(),
        index,
        reader,
        id,
        name,
        subject,
        text,
    })
}

impl ResponseSearch {
    /// The live responses matching `q`, best first, with their scores (at most `limit`).
    pub fn search(
        &self,
        responses: &Responses,
        q: &str,
        limit: usize,
    ) -> Result<Vec<(ResponseId, f32)>, String> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if built
            .as_ref()
            .is_none_or(|b| b.generation != responses.generation())
        {
            *built = Some(build(responses).map_err(|e| format!("building the index: {e}"))?);
        }
        let Some(b) = built.as_ref() else {
            return Ok(Vec::new());
        };
        let mut parser = QueryParser::for_index(&b.index, vec![b.name, b.subject, b.text]);
        parser.set_field_boost(b.name, 3.0);
        parser.set_field_boost(b.subject, 2.0);
        // Whatever a person types is a query: what cannot be parsed is read as words.
        let (query, _) = parser.parse_query_lenient(q);
        let searcher = b.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(|e| format!("searching: {e}"))?;
        let mut found = Vec::with_capacity(top.len());
        for (score, address) in top {
            let d: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| format!("reading a hit: {e}"))?;
            let id = d
                .get_first(b.id)
                .and_then(|v| v.as_str())
                .and_then(ResponseId::parse);
            if let Some(id) = id {
                found.push((id, score));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::standard_response::{
        ResponseCreated, ResponseDeleted, ResponseEvent, ResponseFields, Usage,
    };
    use crate::domain::Millis;

    fn fields(name: &str, subject: &str, text: &str) -> ResponseFields {
        ResponseFields {
            name: name.into(),
            categories: vec![],
            usage: Usage::Suggestion,
            approved: true,
            valid_from: None,
            valid_until: None,
            subject: subject.into(),
            text: text.into(),
            html: None,
        }
    }

    fn create(r: &mut Responses, n: u128, f: ResponseFields) -> ResponseId {
        let id = ResponseId(uuid::Uuid::from_u128(n));
        r.apply(
            id,
            &ResponseEvent::ResponseCreated(ResponseCreated {
                fields: f,
                by: "admin".into(),
                at: Millis(1),
            }),
        );
        id
    }

    #[test]
    fn words_rank_name_over_subject_over_text_fold_accents_and_follow_changes() {
        let mut r = Responses::default();
        let s = ResponseSearch::default();
        let text = create(
            &mut r,
            1,
            fields("Delay", "Re: order", "Your parcel is late."),
        );
        let name = create(
            &mut r,
            2,
            fields("Parcel lost", "Re: order", "We are sorry."),
        );
        let subject = create(&mut r, 3, fields("Sorry", "Your parcel", "We apologise."));
        create(
            &mut r,
            4,
            fields("Rückerstattung", "Erstattung", "Wir erstatten."),
        );
        let ids = |q: &str, r: &Responses| -> Vec<ResponseId> {
            s.search(r, q, 10)
                .unwrap()
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        assert_eq!(ids("parcel", &r), [name, subject, text]);
        assert_eq!(ids("PARCEL", &r), [name, subject, text]);
        assert_eq!(ids("ruckerstattung", &r).len(), 1);
        assert!(ids("nothing-like-it", &r).is_empty());
        // Odd input is words, never an error.
        for q in ["\"unclosed", "name:", "((", "+-", "a AND", "*"] {
            assert!(s.search(&r, q, 10).is_ok(), "{q}");
        }
        // A deleted response leaves the index at the next search.
        r.apply(
            name,
            &ResponseEvent::ResponseDeleted(ResponseDeleted {
                by: "admin".into(),
                at: Millis(2),
            }),
        );
        assert_eq!(ids("parcel", &r), [subject, text]);
    }
}
