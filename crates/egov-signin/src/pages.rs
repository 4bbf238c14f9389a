//! The login page in Kazakh, Russian and English: a plain form (no JavaScript), its texts
//! escaped, with the refusal of the last attempt shown above it.

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Қазақ тілі, the default.
    #[default]
    Kk,
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the switcher's order.
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// Reads a `lang` parameter; anything else is Kazakh.
    pub fn or_default(code: Option<&str>) -> Lang {
        match code {
            Some("ru") => Lang::Ru,
            Some("en") => Lang::En,
            _ => Lang::Kk,
        }
    }

    /// Returns the code, e.g. `kk`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    fn native_name(self) -> &'static str {
        match self {
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
            Lang::En => "English",
        }
    }
}

/// A text of the sign-in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// The page heading.
    Heading,
    /// The login field.
    Login,
    /// The password field.
    Password,
    /// The button.
    Submit,
    /// Wrong login or password: the refusal of authorisation (common portal flow, process 2).
    WrongCredentials,
    /// Too many attempts.
    TooManyAttempts,
    /// Signed out.
    SignedOut,
    /// Session ended, sign in again.
    SignInAgain,
    /// The sign-out button.
    SignOut,
    /// A cross-site or token-less form.
    FormRefused,
}

impl Text {
    /// Returns the text in a language.
    pub fn get(self, lang: Lang) -> &'static str {
        use Lang::{En, Kk, Ru};
        match (self, lang) {
            (Text::Heading, Kk) => "Жүйеге кіру",
            (Text::Heading, Ru) => "Вход в систему",
            (Text::Heading, En) => "Sign in",
            (Text::Login, Kk) => "Логин",
            (Text::Login, Ru) => "Логин",
            (Text::Login, En) => "Login",
            (Text::Password, Kk) => "Құпиясөз",
            (Text::Password, Ru) => "Пароль",
            (Text::Password, En) => "Password",
            (Text::Submit, Kk) => "Кіру",
            (Text::Submit, Ru) => "Войти",
            (Text::Submit, En) => "Sign in",
            (Text::WrongCredentials, Kk) => "Авторизациядан бас тарту. Логин немесе құпиясөз қате.",
            (Text::WrongCredentials, Ru) => "Отказ в авторизации. Неверный логин или пароль.",
            (Text::WrongCredentials, En) => "Refusal of authorisation. Wrong login or password.",
            (Text::TooManyAttempts, Kk) => "Сәтсіз әрекеттер тым көп. Кейінірек қайталаңыз.",
            (Text::TooManyAttempts, Ru) => "Слишком много неудачных попыток. Повторите позже.",
            (Text::TooManyAttempts, En) => "Too many failed attempts. Try again later.",
            (Text::SignedOut, Kk) => "Сіз жүйеден шықтыңыз.",
            (Text::SignedOut, Ru) => "Вы вышли из системы.",
            (Text::SignedOut, En) => "You have signed out.",
            (Text::SignInAgain, Kk) => "Сеанс аяқталды немесе жоқ: қайта кіріңіз.",
            (Text::SignInAgain, Ru) => "Сеанс завершён или отсутствует: войдите снова.",
            (Text::SignInAgain, En) => "Your session has ended or is missing: sign in again.",
            (Text::SignOut, Kk) => "Шығу",
            (Text::SignOut, Ru) => "Выйти",
            (Text::SignOut, En) => "Sign out",
            (Text::FormRefused, Kk) => {
                "Пішін қабылданбады: ол басқа сайттан жіберілген немесе оның белгісі жоқ. Бетті жаңартып, қайталаңыз."
            }
            (Text::FormRefused, Ru) => {
                "Форма отклонена: она отправлена с другого сайта или без своего токена. Обновите страницу и повторите."
            }
            (Text::FormRefused, En) => {
                "Form refused: it came from another site or without its token. Reload the page and try again."
            }
        }
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the login page: `notice` above the form (`error` styles it as a refusal).
pub fn login_page(title: &str, lang: Lang, next: &str, notice: Option<(Text, bool)>) -> String {
    let t = |text: Text| escape(text.get(lang));
    let langs: String = Lang::ALL
        .iter()
        .map(|other| {
            format!(
                r#"<a id="lang-{code}" href="{path}?lang={code}&amp;next={next}"{current}>{name}</a> "#,
                code = other.code(),
                path = crate::LOGIN_PATH,
                next = escape(&percent_encode(next)),
                current = if *other == lang { r#" aria-current="true""# } else { "" },
                name = other.native_name(),
            )
        })
        .collect();
    let notice = notice.map_or_else(String::new, |(text, error)| {
        format!(
            r#"<p id="{id}" class="{id}" role="{role}">{text}</p>"#,
            id = if error {
                "signin-error"
            } else {
                "signin-notice"
            },
            role = if error { "alert" } else { "status" },
            text = t(text),
        )
    });
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading} · {title}</title>
<style>
  body {{ margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1d2733; background: #f4f6f9; }}
  header {{ display: flex; justify-content: space-between; padding: 10px 24px; background: #0b5c8e; color: #fff; }}
  header a {{ color: #fff; margin-left: 8px; }}
  main {{ max-width: 360px; margin: 48px auto; background: #fff; border: 1px solid #d8dee6; border-radius: 8px; padding: 20px 24px; }}
  label {{ display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; color: #5b6878; }}
  input {{ font: inherit; padding: 7px; border: 1px solid #d8dee6; border-radius: 4px; }}
  button {{ font: inherit; padding: 8px 14px; border: 0; border-radius: 6px; background: #0b5c8e; color: #fff; }}
  .signin-error {{ color: #b3261e; background: #fdecea; padding: 8px; border-radius: 6px; }}
  .signin-notice {{ color: #1e7a3c; background: #e6f4ea; padding: 8px; border-radius: 6px; }}
</style>
</head>
<body>
<header><strong>{title}</strong><nav>{langs}</nav></header>
<main>
<h1>{heading}</h1>
{notice}
<form method="post" action="{action}" id="signin-form">
  <input type="hidden" name="next" value="{next}">
  <input type="hidden" name="lang" value="{lang}">
  <label>{login_label}<input name="login" id="login" autocomplete="username" required maxlength="64"></label>
  <label>{password_label}<input name="password" id="password" type="password" autocomplete="current-password" required maxlength="256"></label>
  <button type="submit" id="signin-submit">{submit}</button>
</form>
</main>
</body>
</html>
"#,
        lang = lang.code(),
        heading = t(Text::Heading),
        title = escape(title),
        action = crate::LOGIN_PATH,
        next = escape(next),
        login_label = t(Text::Login),
        password_label = t(Text::Password),
        submit = t(Text::Submit),
    )
}

/// Renders the sign-out button a signed-in page puts in its frame.
pub fn logout_form(csrf: &str, lang: Lang) -> String {
    format!(
        r#"<form method="post" action="{action}" id="signout-form"><input type="hidden" name="{field}" value="{csrf}"><input type="hidden" name="lang" value="{lang}"><button type="submit" id="signout">{label}</button></form>"#,
        action = crate::LOGOUT_PATH,
        field = crate::CSRF_FIELD,
        csrf = escape(csrf),
        lang = lang.code(),
        label = escape(Text::SignOut.get(lang)),
    )
}

/// Renders the page of a refused form (403).
pub fn refused_page(lang: Lang) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>403</title></head><body><h1 id="form-refused">{text}</h1></body></html>"#,
        lang = lang.code(),
        text = escape(Text::FormRefused.get(lang)),
    )
}

/// Percent-encodes a path for a query parameter.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_page_speaks_each_language_and_escapes_the_next_page() {
        let page = login_page(
            "Worklist",
            Lang::Ru,
            "/x?a=\"<b>",
            Some((Text::WrongCredentials, true)),
        );
        assert!(page.contains("Вход в систему"));
        assert!(page.contains("Неверный логин или пароль."));
        assert!(page.contains("/x?a=&quot;&lt;b&gt;"));
        assert!(!page.contains("\"<b>"));
        assert!(login_page("W", Lang::Kk, "/", None).contains("Құпиясөз"));
        assert!(login_page("W", Lang::En, "/", None).contains("Password"));
    }
}
