//! Development delivery: each mail becomes an `.eml` file in a directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tessera_application::ports::{MailTransport, OutgoingMail, SendError};
use tokio::io::AsyncWriteExt;

use crate::message::{Composer, MailFrom, SetupError};

/// Writes each mail, whole as it would be sent, to
/// `<dir>/<queued_at as YYYYMMDDTHHMMSSZ>-<kind>-<id>.eml`, and logs the file's path.
/// A retry of one mail writes the same file again.
#[derive(Debug, Clone)]
pub struct EmlDirectory {
    dir: PathBuf,
    composer: Composer,
}

impl EmlDirectory {
    /// Mail into `dir` (made on the first mail if missing), sent as `from`, each
    /// `Message-ID` ending with `message_host`.
    ///
    /// # Errors
    /// [`SetupError::MessageHost`] when `message_host` cannot end a `Message-ID`.
    pub fn new(
        dir: impl Into<PathBuf>,
        from: MailFrom,
        message_host: &str,
    ) -> Result<Self, SetupError> {
        Ok(Self {
            dir: dir.into(),
            composer: Composer::new(from, message_host)?,
        })
    }

    /// Where the mails go.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file `mail` is written to.
    #[must_use]
    pub fn path_of(&self, mail: &OutgoingMail) -> PathBuf {
        self.dir.join(format!(
            "{}-{}-{}.eml",
            mail.queued_at.format("%Y%m%dT%H%M%SZ"),
            mail.kind,
            mail.id
        ))
    }
}

#[async_trait]
impl MailTransport for EmlDirectory {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let bytes = self.composer.compose(mail)?.formatted();
        let path = self.path_of(mail);
        write_whole(&self.dir, &path, &bytes)
            .await
            .map_err(|error| {
                SendError::Unreachable(format!("cannot write {}: {error}", path.display()))
            })?;
        // The path names the kind and the id: no address, no link.
        tracing::info!(path = %path.display(), kind = %mail.kind, "mail written");
        Ok(())
    }
}

/// Writes `bytes` beside `path` and renames the file into place, so a reader of the
/// directory never sees half a mail. Readable by its owner only: it holds a live link.
async fn write_whole(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&partial).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, path).await
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;
    use tessera_domain::MailKind;

    use super::*;
    use crate::message::parse_from;
    use crate::message::tests::{TOKEN, mail};

    fn directory(dir: &Path) -> EmlDirectory {
        let from = parse_from("Tessera <no-reply@localhost>").unwrap_or_else(|e| panic!("{e}"));
        EmlDirectory::new(dir, from, "localhost").unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn each_mail_is_written_whole_under_its_time_kind_and_id() {
        let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = scratch.path().join("missing").join("mail");
        let eml = directory(&dir);
        let mail = mail(MailKind::VerifyEmail);
        assert!(eml.send(&mail).await.is_ok());
        let name = format!("20261203T140500Z-verify_email-{}.eml", mail.id);
        let path = dir.join(&name);
        assert_eq!(eml.path_of(&mail), path);
        let bytes = tokio::fs::read(&path)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let message = MessageParser::new()
            .parse(&bytes)
            .unwrap_or_else(|| panic!("unparsable"));
        assert_eq!(message.subject(), Some("Verify your email"));
        let (text, html) = crate::message::tests::bodies(&bytes);
        assert!(text[0].contains(TOKEN) && html[0].contains(TOKEN));
        // Sent again (a retry), the same file holds it; nothing else is left behind.
        assert!(eml.send(&mail).await.is_ok());
        let mut names = Vec::new();
        let mut entries = tokio::fs::read_dir(&dir)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        while let Ok(Some(entry)) = entries.next_entry().await {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        assert_eq!(names, [name]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
    }

    #[tokio::test]
    async fn a_directory_that_cannot_be_made_is_unreachable() {
        let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = scratch.path().join("a-file");
        std::fs::write(&file, b"not a directory").unwrap_or_else(|e| panic!("{e}"));
        let eml = directory(&file.join("mail"));
        match eml.send(&mail(MailKind::ResetPassword)).await {
            Err(error @ SendError::Unreachable(_)) => {
                assert!(error.is_retried());
                assert!(!error.to_string().contains(TOKEN));
                assert!(!error.to_string().contains("bob@"));
            }
            other => panic!("{other:?}"),
        }
    }
}
