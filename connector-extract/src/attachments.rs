//! What a source does with a downloaded file: its text into the file's
//! own document (fs, S3, SharePoint), or an attachment's text into its
//! parent's (Jira issues, Confluence pages).

use connector_core::{Document, MetadataValue};

use crate::Extractor;

impl Extractor {
    /// The largest file a source should download for extraction.
    pub fn download_cap(&self) -> u64 {
        self.options().max_input_bytes
    }

    /// Extract `bytes` (the file `name` of declared type `mime`) and
    /// [`fill`](crate::Extracted::fill) `doc`, the file's own document,
    /// linking sections to its URL. A file that cannot be read is an error
    /// naming it and the reason: the source reports it as that document's
    /// failure.
    ///
    /// ```
    /// # async fn demo() {
    /// use connector_core::Document;
    /// use connector_extract::Extractor;
    ///
    /// let mut doc = Document::new("s3", "memo.rtf", "memo.rtf");
    /// let rtf = br"{\rtf1\ansi Ship it.\par}";
    /// Extractor::default().file_into(&mut doc, rtf, "memo.rtf", None).await.unwrap();
    /// assert_eq!(doc.sections[0].text, "Ship it.");
    /// let broken = Extractor::default().file_into(&mut doc, b"PK\x03\x04", "a.docx", None).await;
    /// assert!(broken.unwrap_err().to_string().contains("a.docx"));
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo());
    /// ```
    pub async fn file_into(
        &self,
        doc: &mut Document,
        bytes: &[u8],
        name: &str,
        mime: Option<&str>,
    ) -> connector_core::Result<()> {
        let extracted = self.extract(bytes.to_vec(), name, mime).await?;
        let link = doc.url.clone();
        extracted.fill(doc, link.as_deref());
        Ok(())
    }

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
