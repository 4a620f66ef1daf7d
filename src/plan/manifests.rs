//! Reading manifests as `kubectl apply -f` takes them: files and
//! directories (their subdirectories too with `-R`), YAML streams of
//! several documents, JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::Value;

/// One object of the files, and where it was written.
#[derive(Clone, Debug)]
pub struct Document {
    /// `file` or `file#n` for the n-th document of a stream (from 1).
    pub source: String,
    pub value: Value,
}

impl Document {
    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
}

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Every document of `paths`, in the order given, a directory's files
/// sorted by name; subdirectories only when `recursive`, as kubectl's `-R`.
pub fn read(paths: &[PathBuf], recursive: bool) -> anyhow::Result<Vec<Document>> {
    let mut documents = vec![];
    for path in paths {
        for file in files(path, recursive)? {
            documents.extend(parse(&file)?);
        }
    }
    Ok(documents)
}

fn files(path: &Path, recursive: bool) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        // A file named on the command line is read whatever its extension, as kubectl does.
        return Ok(vec![path.to_owned()]);
    }
    let mut found = vec![];
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading directory {}", path.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading directory {}", path.display()))?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            if recursive {
                found.extend(files(&entry, recursive)?);
            }
        } else if entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            found.push(entry);
        }
    }
    Ok(found)
}

fn parse(file: &Path) -> anyhow::Result<Vec<Document>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut documents = vec![];
    // JSON is YAML too; one parser reads both, a stream document by document.
    for (i, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
        let source = format!("{}#{}", file.display(), i + 1);
        let value = Value::deserialize(document).with_context(|| format!("parsing {source}"))?;
        match value {
            // An empty document, as between two `---`.
            Value::Null => {}
            Value::Object(_) if value.get("kind").is_some() => {
                // A `kind: List` holds its objects in `items`, as kubectl writes them.
                if value["kind"] == "List" {
                    for item in value["items"].as_array().into_iter().flatten() {
                        documents.push(Document {
                            source: source.clone(),
                            value: item.clone(),
                        });
                    }
                } else {
                    documents.push(Document { source, value });
                }
            }
            _ => bail!("{source}: not a Kubernetes object (no kind)"),
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_directories_and_json_are_read_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let nested = dir.path().join("b");
        std::fs::create_dir(&nested).expect("dir");
        std::fs::write(
            dir.path().join("a.yaml"),
            "kind: Namespace\nmetadata: {name: one}\n---\n---\nkind: Namespace\nmetadata: {name: two}\n",
        )
        .expect("write");
        std::fs::write(
            nested.join("c.json"),
            r#"{"kind": "Namespace", "metadata": {"name": "three"}}"#,
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a manifest").expect("write");
        let names = |recursive| -> Vec<String> {
            read(&[dir.path().to_owned()], recursive)
                .expect("read")
                .iter()
                .map(|d| d.value["metadata"]["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(names(true), ["one", "two", "three"]);
        assert_eq!(names(false), ["one", "two"], "subdirectories only with -R");
    }

    #[test]
    fn a_document_that_is_no_object_is_refused_with_its_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("x.yaml");
        std::fs::write(&file, "kind: Namespace\nmetadata: {name: one}\n---\n- a list\n").expect("write");
        let error = read(&[file], false).unwrap_err().to_string();
        assert!(
            error.ends_with("x.yaml#2: not a Kubernetes object (no kind)"),
            "{error}"
        );
    }
}
