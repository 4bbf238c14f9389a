//! The receipt of refusal to accept the application (өтінішті қабылдаудан бас тарту туралы
//! қолхат / расписка об отказе в приеме заявления), Standard annex 2 of service D: a
//! printable page and a PDF with DejaVu Sans embedded (it has Cyrillic and the Kazakh letters).
//!
//! `002_…` item 9.2: «стандарттың 9-тармағына сәйкес құжаттардың толық емес топтамасын
//! ұсынған жағдайда, Мемлекеттік корпорация қызметкері құжаттарды қабылдаудан бас тартады және
//! стандарттың 2-қосымшасына сәйкес нысан бойынша өтінішті қабылдаудан бас тарту туралы қолхат
//! береді». The annex itself is not among the seeds; the text follows the form the Standards
//! of that time print (law «О государственных услугах», article 20, paragraph 2).

use printpdf::{Mm, PdfDocument};

use crate::ConError;
use crate::store::Receipt;

/// DejaVu Sans (Bitstream Vera license, `assets/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The longest line of the PDF, in characters, at the body's size.
const WRAP: usize = 88;

/// A line of the receipt: its text and whether it is a heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text.
    pub text: String,
    /// Whether it is set larger.
    pub heading: bool,
}

fn line(text: impl Into<String>) -> Line {
    Line {
        text: text.into(),
        heading: false,
    }
}

fn heading(text: impl Into<String>) -> Line {
    Line {
        text: text.into(),
        heading: true,
    }
}

/// Returns the receipt's lines, Kazakh then Russian, as the annex form prints them.
pub fn lines(receipt: &Receipt, service_name_kk: &str, service_name_ru: &str) -> Vec<Line> {
    let date = receipt.issued_at.get(..10).unwrap_or(&receipt.issued_at);
    let missing: Vec<&str> = receipt.missing.lines().collect();
    let mut out = vec![
        line(
            "Мемлекеттік көрсетілетін қызмет стандартына 2-қосымша / Приложение 2 к стандарту государственной услуги",
        ),
        heading("Құжаттарды қабылдаудан бас тарту туралы қолхат"),
        heading("Расписка об отказе в приеме документов"),
        line(format!("№ {}", receipt.id)),
        line(format!(
            "«Мемлекеттік көрсетілетін қызметтер туралы» 2013 жылғы 15 сәуірдегі Қазақстан Республикасы Заңының 20-бабының 2-тармағын басшылыққа ала отырып, «Азаматтарға арналған үкімет» мемлекеттік корпорациясы» КеАҚ филиалының бөлімі мемлекеттік көрсетілетін қызмет стандартында көзделген тізбеге сәйкес құжаттардың толық топтамасын ұсынбауыңызға байланысты «{service_name_kk}» мемлекеттік қызметін көрсету үшін құжаттарды қабылдаудан бас тартады, атап айтқанда:"
        )),
        line(format!(
            "Руководствуясь пунктом 2 статьи 20 Закона Республики Казахстан от 15 апреля 2013 года «О государственных услугах», отдел филиала НАО «Государственная корпорация «Правительство для граждан» отказывает в приеме документов на оказание государственной услуги «{service_name_ru}» ввиду представления Вами неполного пакета документов согласно перечню, предусмотренному стандартом государственной услуги, а именно:"
        )),
        line("Жоқ құжаттардың атауы / Наименование отсутствующих документов:"),
    ];
    out.extend(
        missing
            .iter()
            .enumerate()
            .map(|(index, name)| line(format!("{}) {name}", index + 1))),
    );
    out.extend([
        line("Осы қолхат әр тарапқа бір-бірден 2 данада жасалды. / Настоящая расписка составлена в двух экземплярах, по одному для каждой стороны."),
        line(format!(
            "Көрсетілетін қызметті алушы / Услугополучатель: {} (ЖСН / ИИН {})",
            receipt.recipient_name, receipt.recipient_iin
        )),
        line(format!(
            "Мемлекеттік корпорация қызметкері / Работник Государственной корпорации: {} ________ (қолы / подпись)",
            receipt.operator_name
        )),
        line("Алдым / Получил: ____________________ (көрсетілетін қызметті алушының қолы / подпись услугополучателя)"),
        line(format!("Күні / Дата: {date}")),
    ]);
    out
}

/// Renders the receipt as a printable HTML page (no JavaScript; printed with the browser).
pub fn page(receipt: &Receipt, service_name_kk: &str, service_name_ru: &str, back: &str) -> String {
    let body: String = lines(receipt, service_name_kk, service_name_ru)
        .into_iter()
        .map(|line| match line.heading {
            true => format!("<h1>{}</h1>\n", egov_signin::pages::escape(&line.text)),
            false => format!("<p>{}</p>\n", egov_signin::pages::escape(&line.text)),
        })
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="kk">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Қолхат / Расписка {id}</title>
<style>
  body {{ margin: 0; font: 15px/1.5 "DejaVu Sans", system-ui, sans-serif; color: #111; background: #eef1f5; }}
  article {{ max-width: 760px; margin: 24px auto; background: #fff; padding: 32px 40px; border: 1px solid #d8dee6; }}
  h1 {{ font-size: 18px; text-align: center; margin: 6px 0; }}
  nav {{ max-width: 760px; margin: 16px auto 0; display: flex; gap: 16px; }}
  @media print {{ nav {{ display: none; }} body {{ background: #fff; }} article {{ border: 0; margin: 0; }} }}
</style>
</head>
<body>
<nav><a id="receipt-pdf" href="/receipts/{id}/pdf">PDF</a><a id="back" href="{back}">←</a></nav>
<article id="receipt">
{body}</article>
</body>
</html>
"#,
        id = egov_signin::pages::escape(&receipt.id),
        back = egov_signin::pages::escape(back),
    )
}

/// Splits a text into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let length = current.chars().count();
        if length > 0 && length + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Renders the receipt as an A4 PDF with the font embedded.
pub fn pdf(
    receipt: &Receipt,
    service_name_kk: &str,
    service_name_ru: &str,
) -> Result<Vec<u8>, ConError> {
    let failed = |error: printpdf::Error| ConError::Pdf(error.to_string());
    let (document, page, layer) =
        PdfDocument::new("Қолхат / Расписка", Mm(210.0), Mm(297.0), "receipt");
    let font = document.add_external_font(FONT).map_err(failed)?;
    let layer = document.get_page(page).get_layer(layer);
    let mut y = 280.0;
    for line in lines(receipt, service_name_kk, service_name_ru) {
        let (size, width, step) = match line.heading {
            true => (13.0, 70, 7.0),
            false => (9.5, WRAP, 5.0),
        };
        for text in wrap(&line.text, width) {
            layer.use_text(text, size, Mm(18.0), Mm(y), &font);
            y -= step;
        }
        y -= 3.0;
    }
    document.save_to_bytes().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            id: "0190-r".into(),
            filing_id: "0190-f".into(),
            service_code: "D".into(),
            recipient_iin: "920618490023".into(),
            recipient_name: "Сейітова Ақмарал".into(),
            missing: "Баланың туу туралы куәлігі / Свидетельство о рождении ребенка".into(),
            operator_name: "Әбілова Мадина".into(),
            issued_at: "2026-12-07T09:00:00+05:00".into(),
        }
    }

    #[test]
    fn the_receipt_names_the_missing_documents_the_recipient_and_the_operator() {
        let page = page(&receipt(), "Кезекке қою", "Постановка на очередь", "/desk");
        assert!(page.contains("Расписка об отказе в приеме документов"));
        assert!(page.contains("1) Баланың туу туралы куәлігі"));
        assert!(page.contains("Әбілова Мадина"));
        assert!(page.contains("Сейітова Ақмарал (ЖСН / ИИН 920618490023)"));
        assert!(page.contains("Күні / Дата: 2026-12-07"));
    }

    #[test]
    fn the_receipt_pdf_embeds_its_font() {
        let bytes = pdf(&receipt(), "Кезекке қою", "Постановка на очередь").expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("FontFile2"), "the TrueType font is embedded");
    }

    #[test]
    fn long_lines_wrap_at_spaces() {
        let lines = wrap("аа бб вв гг", 5);
        assert_eq!(lines, ["аа бб", "вв гг"]);
    }
}
