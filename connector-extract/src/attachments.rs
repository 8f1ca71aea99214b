//! The text of a document's downloaded attachments, as sections of the
//! document itself: what Jira issues and Confluence pages carry.

use connector_core::{Document, MetadataValue};

use crate::Extractor;

impl Extractor {
    /// Extract every attachment of `doc` that holds its bytes and is of a
    /// format this build reads; its sections are appended to `doc`, each
    /// linked to the attachment (its URL, else its name) and the place in
    /// it (`…/report.pdf#page=2`). An attachment that cannot be read does
    /// not cost the document: its name and the reason are listed in the
    /// `extract_failures` metadata.
    ///
    /// ```
    /// # async fn demo() {
    /// use connector_core::{Attachment, Document};
    /// use connector_extract::Extractor;
    ///
    /// let mut issue = Document::new("jira", "ENG-1", "ENG-1: Rollback");
    /// let mut memo = Attachment::new("memo.rtf");
    /// memo.bytes = Some(br"{\rtf1\ansi Revert the schema first.\par}".to_vec());
    /// issue.attachments.push(memo);
    /// Extractor::default().attachments_into(&mut issue).await;
    /// assert_eq!(issue.sections[0].text, "Revert the schema first.");
    /// assert_eq!(issue.sections[0].link.as_deref(), Some("memo.rtf"));
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo());
    /// ```
    pub async fn attachments_into(&self, doc: &mut Document) {
        let mut sections = Vec::new();
        let mut failures = Vec::new();
        for attachment in &doc.attachments {
            let Some(bytes) = &attachment.bytes else {
                continue;
            };
            let mime = attachment.content_type.as_deref();
            if !Extractor::supports(&attachment.name, mime) {
                continue;
            }
            let link = attachment.url.as_deref().unwrap_or(&attachment.name);
            match self.extract(bytes.clone(), &attachment.name, mime).await {
                Ok(text) => sections.extend(text.into_sections(Some(link))),
                Err(e) => failures.push(e.to_string()),
            }
        }
        doc.sections.extend(sections);
        if !failures.is_empty() {
            doc.metadata
                .insert("extract_failures".into(), MetadataValue::Many(failures));
        }
    }
}
