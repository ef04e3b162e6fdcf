//! Pipelines and stage parameters given as Python dicts: the Python side serializes them as
//! JSON, this module turns them into the TOML the pipeline parser reads, so a dict is checked
//! by exactly the rules of a pipeline file (unknown keys refused, naming them).

use serde_json::Value;

/// A JSON value as a TOML value; `at` names the key for errors (TOML has no null).
fn to_toml(v: &Value, at: &str) -> Result<toml::Value, String> {
    Ok(match v {
        Value::Null => {
            return Err(format!(
                "`{at}` is None: leave the key out to use its default"
            ));
        }
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, _) if n.as_u64().is_some() => {
                return Err(format!("`{at}`: {n} is too large (at most 2^63 - 1)"));
            }
            (None, Some(f)) => toml::Value::Float(f),
            (None, None) => return Err(format!("`{at}`: {n} is not a number TOML can hold")),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| to_toml(x, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => toml::Value::Table(table(o, at)?),
    })
}

fn table(o: &serde_json::Map<String, Value>, at: &str) -> Result<toml::Table, String> {
    let mut t = toml::Table::new();
    for (k, v) in o {
        let key = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        t.insert(k.clone(), to_toml(v, &key)?);
    }
    Ok(t)
}

/// A pipeline dict (as JSON text) as pipeline-file TOML; `version = 1` is added when absent.
pub fn dict_to_toml(json: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("pipeline dict: {e}"))?;
    let Value::Object(o) = v else {
        return Err("a pipeline dict must be a dict".into());
    };
    let mut t = toml::Table::new();
    if !o.contains_key("version") {
        t.insert("version".into(), toml::Value::Integer(1));
    }
    t.extend(table(&o, "")?);
    toml::to_string(&t).map_err(|e| format!("pipeline dict: {e}"))
}

/// Stage parameters (a JSON object) as the body of a `[[stage]]` table with `type = name`.
pub fn stage_toml(name: &str, params_json: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(params_json).map_err(|e| format!("parameters: {e}"))?;
    let Value::Object(o) = v else {
        return Err("stage parameters must be keyword arguments".into());
    };
    if o.contains_key("type") {
        return Err("`type` is the stage's name: give it as the first argument".into());
    }
    let mut t = toml::Table::new();
    t.insert("type".into(), toml::Value::String(name.to_string()));
    t.extend(table(&o, "")?);
    toml::to_string(&t).map_err(|e| format!("parameters: {e}"))
}
