//! The approval report (spec §6): landscape A4; a cover, one page per photo section with its
//! sidebar texts, a checklist page and the evidence page — 6 pages for cleaning, 8 for electrical. Every dynamic
//! text comes from the submission (visit date, city, status, remarks, technician); under each
//! photo its short SHA-256, and on the last page when and from which stored files it was made.
//! A stored photo that cannot be decoded gets a labelled placeholder box with its full SHA-256
//! instead of failing the whole report: the evidence of what was filed stays on the page. The
//! last page (or pages, for a long table) is the photos' evidence: capture time, position,
//! camera, perceptual hash and findings. The embedded photos are re-encoded and carry no EXIF.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::TextDirection;

use super::pdf_wording::{CLEANING_ITEMS, CLEANING_SIDEBARS, ELECTRICAL_ITEMS, ELECTRICAL_SIDEBARS};
use super::photos::PrintPhoto;
use super::text::{Fonts, width, wrap};

const W: f32 = 841.89;
const H: f32 = 595.28;
const SIDEBAR: f32 = 150.0;
const GREEN: (u8, u8, u8) = (0, 79, 61);
const NOTE: (u8, u8, u8) = (26, 102, 89);
const WHITE: (u8, u8, u8) = (255, 255, 255);
const BLACK: (u8, u8, u8) = (0, 0, 0);
const GREY: (u8, u8, u8) = (217, 217, 217);

pub(crate) struct ReportPhoto {
    pub section: u8,
    pub order: u8,
    pub label: String,
    pub sha256: String,
    pub key: String,
    /// `None` when the stored photo could not be decoded: a placeholder is drawn in its place.
    pub print: Option<PrintPhoto>,
    pub evidence: PhotoEvidence,
}

/// What the evidence page says of one photo, as text.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhotoEvidence {
    pub captured_at: Option<String>,
    pub position: Option<String>,
    pub camera: Option<String>,
    pub phash: Option<String>,
    /// One line per finding (or per kind, for the same picture in several slots).
    pub findings: Vec<String>,
}

pub(crate) struct ReportInput {
    pub electrical: bool,
    pub cost_center: String,
    pub interaction_id: String,
    pub city: String,
    pub region: String,
    pub visit_date: NaiveDate,
    pub job_status: String,
    pub remarks: Option<String>,
    pub technician: String,
    pub supervisor: Option<String>,
    pub brand: String,
    pub project_manager: String,
    pub logo: Option<Vec<u8>>,
    pub photos: Vec<ReportPhoto>,
    pub generated_at: DateTime<Utc>,
}

pub(crate) fn render(input: &ReportInput) -> anyhow::Result<Vec<u8>> {
    let fonts = Fonts::get();
    let mut doc = Document::new();
    let settings = || PageSettings::from_wh(W, H).expect("A4");
    {
        let mut page = doc.start_page_with(settings());
        let mut s = page.surface();
        cover(&mut s, &fonts, input);
    }
    let sidebars: &[(&str, &str, &str)] =
        if input.electrical { &ELECTRICAL_SIDEBARS } else { &CLEANING_SIDEBARS };
    for (i, texts) in sidebars.iter().enumerate() {
        let section = i as u8 + 1;
        let mut photos: Vec<&ReportPhoto> = input.photos.iter().filter(|p| p.section == section).collect();
        photos.sort_by_key(|p| p.order);
        let mut page = doc.start_page_with(settings());
        let mut s = page.surface();
        photo_page(&mut s, &fonts, texts, &photos, input.electrical && photos.len() == 4)?;
    }
    {
        let mut page = doc.start_page_with(settings());
        let mut s = page.surface();
        checklist(&mut s, &fonts, input)?;
    }
    let mut photos: Vec<&ReportPhoto> = input.photos.iter().collect();
    photos.sort_by_key(|p| (p.section, p.order));
    let mut rows = photos.as_slice();
    let mut first = true;
    while first || !rows.is_empty() {
        let mut page = doc.start_page_with(settings());
        let mut s = page.surface();
        let drawn = evidence_page(&mut s, &fonts, input, rows, first);
        rows = &rows[drawn..];
        first = false;
    }
    doc.finish().map_err(|e| anyhow::anyhow!("PDF could not be written: {e:?}"))
}

fn fill(s: &mut Surface<'_>, c: (u8, u8, u8)) {
    s.set_fill(Some(Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }));
}

fn rect(s: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, c: (u8, u8, u8)) {
    let Some(r) = Rect::from_xywh(x, y, w.max(0.1), h.max(0.1)) else { return };
    let mut pb = PathBuilder::new();
    pb.push_rect(r);
    if let Some(path) = pb.finish() {
        fill(s, c);
        s.draw_path(&path);
    }
}

fn outline(s: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32) {
    rect(s, x, y, w, 0.5, BLACK);
    rect(s, x, y + h - 0.5, w, 0.5, BLACK);
    rect(s, x, y, 0.5, h, BLACK);
    rect(s, x + w - 0.5, y, 0.5, h, BLACK);
}

/// Text with its baseline at `y`.
/// Font size, weight and colour of a piece of text.
#[derive(Clone, Copy)]
struct St(f32, bool, (u8, u8, u8));

fn text(s: &mut Surface<'_>, f: &Fonts, x: f32, y: f32, t: &str, St(size, bold, c): St) {
    fill(s, c);
    let font = if bold { f.bold.clone() } else { f.regular.clone() };
    s.draw_text(Point::from_xy(x, y), font, size, t, false, TextDirection::Auto);
}

fn centred(s: &mut Surface<'_>, f: &Fonts, x: f32, w: f32, y: f32, t: &str, st: St) {
    let tw = width(t, st.0, st.1);
    text(s, f, x + (w - tw).max(0.0) / 2.0, y, t, st);
}

fn jpeg(s: &mut Surface<'_>, bytes: &[u8], x: f32, y: f32, w: f32, h: f32) -> anyhow::Result<()> {
    let image =
        Image::from_jpeg(Arc::new(bytes.to_vec()).into(), true).map_err(|e| anyhow::anyhow!("photo: {e}"))?;
    let Some(size) = Size::from_wh(w, h) else { return Ok(()) };
    s.push_transform(&Transform::from_translate(x, y));
    s.draw_image(image, size);
    s.pop();
    Ok(())
}

fn logo(
    s: &mut Surface<'_>,
    f: &Fonts,
    input: &ReportInput,
    (x, y, max_w, max_h): (f32, f32, f32, f32),
    c: (u8, u8, u8),
) {
    if let Some(bytes) = &input.logo
        && let Ok(p) = super::photos::prepare(bytes)
    {
        let scale = (max_w / p.width as f32).min(max_h / p.height as f32);
        if jpeg(s, &p.jpeg, x, y, p.width as f32 * scale, p.height as f32 * scale).is_ok() {
            return;
        }
    }
    text(s, f, x, y + max_h * 0.6, &input.brand, St(14.0, true, c));
}

fn cover(s: &mut Surface<'_>, f: &Fonts, input: &ReportInput) {
    for i in 0..24 {
        let t = i as f32 / 23.0;
        let c = ((26.0 * t) as u8, (89.0 * t) as u8, (89.0 * t) as u8);
        rect(s, W * i as f32 / 24.0, 0.0, W / 24.0 + 1.0, H, c);
    }
    let title = if input.electrical { "PPM ELECTRO REPORT" } else { "PPM CLEANING REPORT" };
    text(s, f, 40.0, 110.0, title, St(40.0, true, WHITE));
    text(s, f, 40.0, 148.0, "( Drive Thru )", St(20.0, false, WHITE));
    let date = input.visit_date.format("%d/%B/%Y").to_string();
    text(s, f, 40.0, 250.0, &format!("Visit date: {date}"), St(16.0, false, WHITE));
    text(s, f, 40.0, 310.0, &format!("ATM # {}", input.cost_center), St(34.0, true, WHITE));
    text(s, f, 40.0, 345.0, &format!("{} · {}", input.interaction_id, input.city), St(14.0, false, WHITE));
    logo(s, f, input, (40.0, H - 110.0, 160.0, 70.0), WHITE);
}

fn sidebar(s: &mut Surface<'_>, f: &Fonts, title: &str, body: &str, note: &str) {
    let x = W - SIDEBAR;
    rect(s, x, 0.0, SIDEBAR, H, GREEN);
    let inner = SIDEBAR - 16.0;
    let title_lines = wrap(title, 13.0, true, inner);
    let body_lines = wrap(body, 8.5, false, inner);
    let note_lines = wrap(note, 7.5, false, inner - 8.0);
    let block = title_lines.len() as f32 * 17.0
        + 10.0
        + body_lines.len() as f32 * 11.0
        + 14.0
        + note_lines.len() as f32 * 10.0
        + 10.0;
    let mut y = (H - block) / 2.0 + 13.0;
    for l in &title_lines {
        text(s, f, x + 8.0, y, l, St(13.0, true, WHITE));
        y += 17.0;
    }
    y += 10.0;
    for l in &body_lines {
        text(s, f, x + 8.0, y, l, St(8.5, false, WHITE));
        y += 11.0;
    }
    y += 4.0;
    rect(s, x + 4.0, y, SIDEBAR - 8.0, note_lines.len() as f32 * 10.0 + 10.0, NOTE);
    y += 13.0;
    for l in &note_lines {
        text(s, f, x + 8.0, y, l, St(7.5, false, WHITE));
        y += 10.0;
    }
}

fn photo_page(
    s: &mut Surface<'_>,
    f: &Fonts,
    texts: &(&str, &str, &str),
    photos: &[&ReportPhoto],
    grid: bool,
) -> anyhow::Result<()> {
    let area_w = W - SIDEBAR;
    rect(s, 0.0, 0.0, area_w, H, (20, 20, 20));
    let cells: Vec<(f32, f32, f32, f32)> = if grid {
        let (cw, ch) = (area_w / 2.0, H / 2.0);
        (0..4).map(|i| ((i % 2) as f32 * cw, (i / 2) as f32 * ch, cw, ch)).collect()
    } else {
        let n = photos.len().max(1) as f32;
        (0..photos.len()).map(|i| (i as f32 * area_w / n, 0.0, area_w / n, H)).collect()
    };
    for (p, (cx, cy, cw, ch)) in photos.iter().zip(cells) {
        // Aspect ratio kept: the photo fits inside its cell, above a line for its receipt.
        let (bw, bh) = (cw - 4.0, ch - 16.0);
        match &p.print {
            Some(print) => {
                let scale = (bw / print.width as f32).min(bh / print.height as f32);
                let (w, h) = (print.width as f32 * scale, print.height as f32 * scale);
                jpeg(s, &print.jpeg, cx + (cw - w) / 2.0, cy + 2.0 + (bh - h) / 2.0, w, h)?;
            }
            None => placeholder(s, f, p, (cx + 2.0, cy + 2.0, bw, bh)),
        }
        let caption = format!("{} · sha256 {}", p.label, &p.sha256[..12.min(p.sha256.len())]);
        centred(s, f, cx, cw, cy + ch - 5.0, &caption, St(6.0, false, (200, 200, 200)));
    }
    sidebar(s, f, texts.0, texts.1, texts.2);
    Ok(())
}

/// The box drawn where a photo could not be rendered: its slot, the reason and the full SHA-256,
/// so the reader can still match the page to the stored original.
fn placeholder(s: &mut Surface<'_>, f: &Fonts, p: &ReportPhoto, (x, y, w, h): (f32, f32, f32, f32)) {
    rect(s, x, y, w, h, (60, 60, 60));
    let mid = y + h / 2.0;
    let light = (230, 230, 230);
    centred(s, f, x, w, mid - 24.0, &p.label, St(9.0, true, WHITE));
    centred(s, f, x, w, mid - 8.0, "photo could not be rendered", St(8.0, false, light));
    centred(s, f, x, w, mid + 8.0, "SHA-256", St(6.0, true, light));
    let (a, b) = p.sha256.split_at(p.sha256.len().min(32));
    centred(s, f, x, w, mid + 17.0, a, St(6.0, false, light));
    centred(s, f, x, w, mid + 25.0, b, St(6.0, false, light));
}

fn checklist(s: &mut Surface<'_>, f: &Fonts, input: &ReportInput) -> anyhow::Result<()> {
    let area = W - SIDEBAR - 20.0;
    let x0 = 10.0;
    logo(s, f, input, (x0, 8.0, 90.0, 30.0), BLACK);
    let title = if input.electrical {
        "Preventive Maintenance Checklist - Drive Up"
    } else {
        "Preventive Cleaning Checklist"
    };
    centred(s, f, x0, area, 24.0, title, St(11.0, true, BLACK));
    // Info row.
    let kind = if input.electrical { "Electro" } else { "Cleaning" };
    let region = if input.region.is_empty() { "-".to_string() } else { input.region.clone() };
    let date = input.visit_date.format("%d.%m.%Y").to_string();
    let cells: [(&str, f32, bool); 10] = [
        ("ATM", 34.0, true),
        (&input.cost_center, 70.0, false),
        ("Type", 36.0, true),
        (kind, 56.0, false),
        ("Region", 44.0, true),
        (&region, 70.0, false),
        ("City", 34.0, true),
        (&input.city, 80.0, false),
        ("DATE", 40.0, true),
        (&date, 66.0, false),
    ];
    let mut x = x0;
    for (t, w, head) in cells {
        if head {
            rect(s, x, 34.0, w, 18.0, GREY);
        }
        outline(s, x, 34.0, w, 18.0);
        centred(s, f, x, w, 46.0, t, St(7.0, head, BLACK));
        x += w;
    }
    text(s, f, x + 8.0, 46.0, &format!("GFM {}", input.interaction_id), St(7.0, true, BLACK));
    // Items table.
    let (ok_w, nok_w, rem_w) = (44.0, 44.0, 170.0);
    let desc_w = area - ok_w - nok_w - rem_w;
    let mut y = 60.0;
    let row = 13.5;
    for (i, (label, w)) in
        [("Job Description", desc_w), ("Ok", ok_w), ("Not Ok", nok_w), ("Remarks", rem_w)].iter().enumerate()
    {
        let cx = x0 + [0.0, desc_w, desc_w + ok_w, desc_w + ok_w + nok_w][i];
        rect(s, cx, y, *w, row, GREY);
        outline(s, cx, y, *w, row);
        centred(s, f, cx, *w, y + 9.5, label, St(7.0, true, BLACK));
    }
    y += row;
    let items = if input.electrical { ELECTRICAL_ITEMS } else { CLEANING_ITEMS };
    let ok = input.job_status != "Not Ok";
    for (label, group) in items {
        if *group {
            rect(s, x0, y, area, row, (235, 235, 235));
            outline(s, x0, y, area, row);
            centred(s, f, x0, desc_w, y + 9.5, label, St(7.0, true, BLACK));
        } else {
            for (cx, w) in [
                (x0, desc_w),
                (x0 + desc_w, ok_w),
                (x0 + desc_w + ok_w, nok_w),
                (x0 + desc_w + ok_w + nok_w, rem_w),
            ] {
                outline(s, cx, y, w, row);
            }
            text(s, f, x0 + 3.0, y + 9.5, label, St(6.5, false, BLACK));
            let (col, w) = if ok { (x0 + desc_w, ok_w) } else { (x0 + desc_w + ok_w, nok_w) };
            centred(s, f, col, w, y + 9.5, if ok { "Ok" } else { "Not Ok" }, St(6.5, false, BLACK));
        }
        y += row;
    }
    // Remarks and signatures.
    y += 4.0;
    let remarks = input
        .remarks
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "Kindly review the ATM receipt taken on the same day before signature".into());
    outline(s, x0, y, area, 16.0);
    text(
        s,
        f,
        x0 + 3.0,
        y + 11.0,
        &format!("Remarks: {}", wrap(&remarks, 6.5, false, area - 60.0).first().cloned().unwrap_or_default()),
        St(6.5, false, BLACK),
    );
    y += 20.0;
    let half = area / 2.0;
    for (i, (head, name)) in [
        (
            "Technician / Supervisor",
            format!("{} / {}", input.technician, input.supervisor.clone().unwrap_or_else(|| "-".into())),
        ),
        (
            "Project Manager",
            if input.project_manager.is_empty() { " ".into() } else { input.project_manager.clone() },
        ),
    ]
    .iter()
    .enumerate()
    {
        let cx = x0 + i as f32 * half;
        rect(s, cx, y, half, 16.0, GREY);
        outline(s, cx, y, half, 16.0);
        centred(s, f, cx, half, y + 11.0, head, St(8.0, true, BLACK));
        outline(s, cx, y + 16.0, half, 18.0);
        centred(s, f, cx, half, y + 29.0, name, St(8.0, false, BLACK));
    }
    evidence_sidebar(s, f, input);
    Ok(())
}

/// The checklist page's sidebar: its title, then the provenance of the report.
fn evidence_sidebar(s: &mut Surface<'_>, f: &Fonts, input: &ReportInput) {
    let x = W - SIDEBAR;
    rect(s, x, 0.0, SIDEBAR, H, GREEN);
    let mut y = 40.0;
    for l in ["Remarks", "Maintenance", "Team"] {
        text(s, f, x + 8.0, y, l, St(15.0, true, WHITE));
        y += 19.0;
    }
    y += 6.0;
    for l in wrap("Check list must be completed and match the site status.", 7.5, false, SIDEBAR - 16.0) {
        text(s, f, x + 8.0, y, &l, St(7.5, false, WHITE));
        y += 10.0;
    }
    y += 10.0;
    text(s, f, x + 8.0, y, "Evidence", St(8.0, true, WHITE));
    y += 10.0;
    let when = input.generated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    for l in wrap(
        &format!(
            "Made {when} by atm-maint {} from {} stored photos (SHA-256):",
            env!("CARGO_PKG_VERSION"),
            input.photos.len()
        ),
        5.5,
        false,
        SIDEBAR - 16.0,
    ) {
        text(s, f, x + 8.0, y, &l, St(5.5, false, WHITE));
        y += 7.0;
    }
    let mut photos: Vec<&ReportPhoto> = input.photos.iter().collect();
    photos.sort_by_key(|p| (p.section, p.order));
    for p in photos {
        let line = format!(
            "S{}.{} {} {}",
            p.section,
            p.order,
            &p.sha256[..16.min(p.sha256.len())],
            p.key.rsplit('/').next().unwrap_or("")
        );
        text(s, f, x + 8.0, y, &line, St(4.6, false, WHITE));
        y += 6.2;
    }
}

/// The columns of the evidence page: x and width.
const EVIDENCE_COLUMNS: [(f32, f32, &str); 5] = [
    (20.0, 120.0, "Photo"),
    (140.0, 92.0, "Taken"),
    (232.0, 128.0, "Where"),
    (360.0, 112.0, "Camera · perceptual hash"),
    (472.0, 350.0, "Findings"),
];
const EVIDENCE_SIZE: f32 = 6.8;
const EVIDENCE_LINE: f32 = 8.6;

/// One page of the evidence table, from the first of `photos`; returns how many rows it drew
/// (a long table continues on the next page; the first page has the heading).
fn evidence_page(
    s: &mut Surface<'_>,
    f: &Fonts,
    input: &ReportInput,
    photos: &[&ReportPhoto],
    first: bool,
) -> usize {
    let mut y = 28.0;
    let title = if first { "PHOTO EVIDENCE" } else { "PHOTO EVIDENCE (continued)" };
    text(s, f, 20.0, y, title, St(14.0, true, GREEN));
    y += 14.0;
    if first {
        let intro = format!(
            "ATM # {} · {} · visit {}. For each photo: when the camera says it was taken, where (the camera's GPS, \
             else the phone's position when it was picked), its camera and its perceptual hash, and what was found \
             when the report was filed (capture time, photos seen before, place).",
            input.cost_center,
            input.interaction_id,
            input.visit_date.format("%d.%m.%Y")
        );
        for l in wrap(&intro, 7.0, false, W - 40.0) {
            text(s, f, 20.0, y, &l, St(7.0, false, BLACK));
            y += 9.0;
        }
        let flagged = input.photos.iter().filter(|p| !p.evidence.findings.is_empty()).count();
        let summary = format!("{flagged} of {} photos flagged.", input.photos.len());
        text(s, f, 20.0, y, &summary, St(7.5, true, BLACK));
        y += 12.0;
    }
    rect(s, 18.0, y - 8.0, W - 36.0, 11.0, GREEN);
    for (x, _, head) in EVIDENCE_COLUMNS {
        text(s, f, x, y, head, St(7.0, true, WHITE));
    }
    y += 8.0;
    let mut drawn = 0;
    for p in photos {
        let e = &p.evidence;
        let cells: [Vec<String>; 5] = [
            vec![format!("S{}.{} {}", p.section, p.order, p.label)],
            vec![e.captured_at.clone().unwrap_or_else(|| "no capture time".into())],
            vec![e.position.clone().unwrap_or_else(|| "no position".into())],
            vec![
                e.camera.clone().unwrap_or_else(|| "camera unknown".into()),
                e.phash.clone().map_or_else(|| "no hash".into(), |h| format!("pHash {h}")),
                format!("sha256 {}", &p.sha256[..16.min(p.sha256.len())]),
            ],
            if e.findings.is_empty() { vec!["None".into()] } else { e.findings.clone() },
        ];
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(EVIDENCE_COLUMNS)
            .map(|(lines, (_, w, _))| {
                lines.iter().flat_map(|l| wrap(l, EVIDENCE_SIZE, false, w - 6.0)).collect()
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1) as f32 * EVIDENCE_LINE + 4.0;
        if y + height > H - 16.0 && drawn > 0 {
            break;
        }
        y += 4.0;
        for (lines, (x, _, _)) in wrapped.iter().zip(EVIDENCE_COLUMNS) {
            let flagged = x == EVIDENCE_COLUMNS[4].0 && !e.findings.is_empty();
            let colour = if flagged { (160, 30, 20) } else { BLACK };
            for (i, l) in lines.iter().enumerate() {
                text(s, f, x, y + 6.0 + i as f32 * EVIDENCE_LINE, l, St(EVIDENCE_SIZE, flagged, colour));
            }
        }
        y += height;
        rect(s, 18.0, y - 2.0, W - 36.0, 0.4, GREY);
        drawn += 1;
    }
    drawn
}
