//! The OLE compound file of an `.xls`, measured before calamine opens it. calamine follows
//! sector chains without noticing loops, reserves what a sheet's DIMENSIONS record claims, and
//! builds every sheet into a dense range spanning its farthest cells. So the chains it will
//! follow are walked here first (each must end within the file), and the workbook stream's
//! records are scanned for what calamine would allocate: every sheet's declared and actual
//! extent, and the shared strings.

use std::collections::HashMap;

use super::{ExcelError, ExcelLimits};

/// Cells calamine may hold as dense ranges over all sheets of one `.xls` (rows × columns of each
/// sheet's extent, values and formulas): 2 million, about 100 MB. A 65536-row list of 30
/// columns fits.
pub(super) const MAX_XLS_CELLS: u64 = 2_000_000;
/// Largest shared-string table (with its CONTINUE records); each string costs ~24 bytes more
/// once read, however short it is in the file.
pub(super) const MAX_SST_BYTES: u64 = 8 * 1024 * 1024;
/// Sheets read; calamine reads them all on opening.
pub(super) const MAX_SHEETS: usize = 256;

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const FREE_OR_SPECIAL: u32 = 0xFFFF_FFFA;
const DIFAT_SPECIAL: u32 = 0xFFFF_FFFC;

fn unreadable() -> ExcelError {
    ExcelError::Load("the file is not a readable .xlsx or .xls workbook".into())
}

pub(super) fn check(bytes: &[u8], limits: &ExcelLimits) -> Result<(), ExcelError> {
    let stream = workbook_stream(bytes).ok_or_else(unreadable)?;
    scan(&stream, limits)
}

/// The compound file as calamine reads it: sector size, FAT, directory.
struct Cfb<'a> {
    bytes: &'a [u8],
    size: usize,
    max_id: usize,
    fat: Vec<u32>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

impl<'a> Cfb<'a> {
    fn sector(&self, id: u32) -> Option<&'a [u8]> {
        if id as usize > self.max_id {
            return None;
        }
        let start = (id as usize + 1).checked_mul(self.size)?;
        let end = (start + self.size).min(self.bytes.len());
        self.bytes.get(start..end).filter(|s| !s.is_empty())
    }

    /// A chain of sectors up to `len` bytes; `None` when it loops, leaves the file or the FAT.
    fn chain(&self, start: u32, len: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0;
        while id != END_OF_CHAIN {
            steps += 1;
            if steps > self.max_id + 1 {
                return None;
            }
            let sector = self.sector(id)?;
            let take = sector.len().min(len - out.len());
            out.extend_from_slice(&sector[..take]);
            if out.len() >= len {
                break;
            }
            id = *self.fat.get(id as usize)?;
        }
        Some(out)
    }
}

/// A directory entry: name, first sector, length.
struct Entry {
    name: String,
    start: u32,
    len: usize,
}

impl<'a> Cfb<'a> {
    /// The header's sector size and the FAT gathered through the DIFAT, as calamine does.
    fn open(bytes: &'a [u8]) -> Option<Cfb<'a>> {
        let header = bytes.get(..512)?;
        let size = match u16_at(header, 30)? {
            9 => 512,
            12 => 4096,
            _ => return None,
        };
        let max_id = bytes.len() / size;
        let mut cfb = Cfb { bytes, size, max_id, fat: Vec::new() };
        let mut difat: Vec<u32> = u32s(&header[76..512]).collect();
        let mut next = u32_at(header, 68)?;
        let mut steps = 0;
        while next < FREE_OR_SPECIAL {
            steps += 1;
            if steps > max_id + 1 {
                return None;
            }
            difat.extend(u32s(cfb.sector(next)?));
            next = difat.pop()?;
        }
        for id in difat.into_iter().filter(|id| *id < DIFAT_SPECIAL) {
            let sector = cfb.sector(id)?;
            cfb.fat.extend(u32s(sector));
        }
        Some(cfb)
    }

    fn directory(&self) -> Option<Vec<Entry>> {
        let dirs = self.chain(u32_at(self.bytes, 48)?, usize::MAX)?;
        let entry = |d: &[u8]| {
            let units: Vec<u16> = d[..64].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            let name: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .take_while(|c| *c != '\0')
                .collect();
            let len = match self.size {
                512 => u32_at(d, 120).map(|l| l as usize),
                _ => u32_at(d, 120)
                    .zip(u32_at(d, 124))
                    .map(|(lo, hi)| ((u64::from(hi) << 32) | u64::from(lo)) as usize),
            };
            Entry { name, start: u32_at(d, 116).unwrap_or(END_OF_CHAIN), len: len.unwrap_or(0) }
        };
        Some(dirs.chunks_exact(128).map(entry).collect())
    }
}

/// The "Workbook" (or BIFF5 "Book") stream, assembled as calamine will; `None` when the file
/// is not a compound file calamine can walk without looping or reading past the end.
fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    let cfb = Cfb::open(bytes)?;
    let entries = cfb.directory()?;
    let mini_fat_len = u32_at(bytes, 64)? as usize;
    let (ministream, mini_fat) = if mini_fat_len > 0 {
        let root = entries.first()?;
        let ministream = cfb.chain(root.start, root.len)?;
        let mini_fat = cfb.chain(u32_at(bytes, 60)?, mini_fat_len.checked_mul(cfb.size)?)?;
        (ministream, u32s(&mini_fat).collect::<Vec<_>>())
    } else {
        (Vec::new(), Vec::new())
    };
    let stream = |name: &str| -> Option<Vec<u8>> {
        let e = entries.iter().find(|e| e.name.eq_ignore_ascii_case(name))?;
        if e.len >= 4096 {
            return cfb.chain(e.start, e.len);
        }
        // Small streams live in the mini stream, in 64-byte sectors; calamine stops at `len`.
        let mut out = Vec::new();
        let mut id = e.start;
        while id != END_OF_CHAIN && out.len() < e.len {
            let at = (id as usize).checked_mul(64)?;
            let sector = ministream.get(at..(at + 64).min(ministream.len()))?;
            let take = sector.len().min(e.len - out.len());
            out.extend_from_slice(&sector[..take]);
            id = *mini_fat.get(id as usize)?;
        }
        Some(out)
    };
    stream("Workbook").or_else(|| stream("Book"))
}

/// One BIFF record: type and data, without its CONTINUE records.
fn records(stream: &[u8], from: usize) -> impl Iterator<Item = (usize, u16, &[u8])> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        let typ = u16_at(stream, at)?;
        let len = u16_at(stream, at + 2)? as usize;
        let data = stream.get(at + 4..at + 4 + len)?;
        let here = at;
        at += 4 + len;
        Some((here, typ, data))
    })
}

fn scan(stream: &[u8], limits: &ExcelLimits) -> Result<(), ExcelError> {
    // The globals: where the sheets are, and the shared strings.
    let mut sheets = Vec::new();
    let mut sst = 0u64;
    let mut in_sst = false;
    for (_, typ, data) in records(stream, 0) {
        match typ {
            0x00FC => in_sst = true,
            0x003C if in_sst => {}
            0x000A => break,
            _ => in_sst = false,
        }
        if in_sst {
            sst += data.len() as u64 + 4;
            if sst > MAX_SST_BYTES {
                return Err(ExcelError::PartTooLarge { limit_mb: MAX_SST_BYTES / (1024 * 1024) });
            }
        }
        if typ == 0x0085 {
            let pos = u32_at(data, 0).ok_or_else(unreadable)? as usize;
            if pos > stream.len() {
                return Err(unreadable());
            }
            sheets.push(pos);
            if sheets.len() > MAX_SHEETS {
                return Err(ExcelError::TooManyParts { parts: sheets.len() as u64, max: MAX_SHEETS as u64 });
            }
        }
    }
    // Every sheet is read whole, even those sharing a position: their dense extents add up.
    let mut seen: HashMap<usize, u64> = HashMap::new();
    let mut total = 0u64;
    for pos in sheets {
        let cells = match seen.get(&pos) {
            Some(c) => *c,
            None => {
                let c = sheet_cells(stream, pos, limits)?;
                seen.insert(pos, c);
                c
            }
        };
        total = total.saturating_add(cells);
        if total > MAX_XLS_CELLS {
            return Err(ExcelError::XlsTooLarge { cells: total, max: MAX_XLS_CELLS });
        }
    }
    Ok(())
}

/// A sheet's extent so far: first and last row, first and last column.
#[derive(Default)]
struct Extent(Option<(u32, u32, u32, u32)>);

impl Extent {
    fn add(&mut self, r: u32, c0: u32, c1: u32) {
        let (a, b, c, d) = self.0.unwrap_or((r, r, c0, c1));
        self.0 = Some((a.min(r), b.max(r), c.min(c0), d.max(c1)));
    }
    fn cells(&self) -> u64 {
        self.0.map_or(0, |(a, b, c, d)| u64::from(b - a + 1) * u64::from(d - c + 1))
    }
}

/// The cells calamine allocates for the sheet at `pos`: what its DIMENSIONS record reserves,
/// plus its values' and formulas' dense extents. Each cell is held to the row and column bounds.
fn sheet_cells(stream: &[u8], pos: usize, limits: &ExcelLimits) -> Result<u64, ExcelError> {
    let (mut values, mut formulas, mut reserved) = (Extent::default(), Extent::default(), 0u64);
    let (mut depth, mut seen_bof) = (0usize, false);
    for (_, typ, data) in records(stream, pos) {
        match typ {
            // Nested substreams (embedded charts) are skipped by calamine, and so here.
            0x0809 if depth > 0 || seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x000A if depth > 0 => depth -= 1,
            0x000A => break,
            _ if depth > 0 => {}
            0x0200 => reserved = reserved.max(dimensions(data, limits)?),
            _ => {
                let Some((row, first, last)) = cell_span(typ, data) else { continue };
                if last >= limits.max_columns {
                    return Err(ExcelError::TooManyColumns {
                        used: u64::from(last) + 1,
                        max: limits.max_columns,
                    });
                }
                if row >= limits.max_rows {
                    return Err(ExcelError::TooManyRows { used: u64::from(row) + 1, max: limits.max_rows });
                }
                values.add(row, first, last);
                if typ == 0x0006 {
                    formulas.add(row, first, last);
                }
            }
        }
    }
    Ok(reserved + values.cells() + formulas.cells())
}

/// Row and column span of a record calamine turns into cells (numbers, labels, booleans and
/// errors, RK and MULRK numbers, shared-string labels, formulas).
fn cell_span(typ: u16, data: &[u8]) -> Option<(u32, u32, u32)> {
    let (row, col) = (u32::from(u16_at(data, 0)?), u32::from(u16_at(data, 2)?));
    match typ {
        0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => Some((row, col, col)),
        0x00BD => {
            let n = data.len().checked_sub(6)? / 6;
            let through = u32::from(u16_at(data, data.len() - 2)?);
            Some((row, col, through.max(col + n as u32)))
        }
        _ => None,
    }
}

/// A DIMENSIONS record checked against the bounds; returns the cells calamine reserves for it.
fn dimensions(data: &[u8], limits: &ExcelLimits) -> Result<u64, ExcelError> {
    // The record's ends are one past the last row and column it covers.
    let (rows_end, cols_end) = match data.len() {
        10 => (u16_at(data, 2).map(u32::from), u16_at(data, 6).map(u32::from)),
        _ => (u32_at(data, 4), u16_at(data, 10).map(u32::from)),
    };
    if let Some(cols) = cols_end.filter(|c| *c > limits.max_columns) {
        return Err(ExcelError::TooManyColumns { used: u64::from(cols), max: limits.max_columns });
    }
    if let Some(rows) = rows_end.filter(|r| *r > limits.max_rows) {
        return Err(ExcelError::TooManyRows { used: u64::from(rows), max: limits.max_rows });
    }
    let reserved = declared_dimensions(data);
    if reserved > MAX_XLS_CELLS {
        return Err(ExcelError::XlsTooLarge { cells: reserved, max: MAX_XLS_CELLS });
    }
    Ok(reserved)
}

/// What calamine reserves for a DIMENSIONS record (its own arithmetic, loops and all: an end
/// before the start counts as everything).
fn declared_dimensions(d: &[u8]) -> u64 {
    let (rf, rl, cf, cl) = match d.len() {
        10 => (u16_at(d, 0).map(u32::from), u16_at(d, 2).map(u32::from), u16_at(d, 4), u16_at(d, 6)),
        14 | 16 => (u32_at(d, 0), u32_at(d, 4), u16_at(d, 8), u16_at(d, 10)),
        _ => return 0,
    };
    let (Some(rf), Some(rl), Some(cf), Some(cl)) = (rf, rl, cf.map(u32::from), cl.map(u32::from)) else {
        return 0;
    };
    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
    if rl == 0 || cl == 0 {
        return 1;
    }
    match ((rl - 1).checked_sub(rf), (cl - 1).checked_sub(cf)) {
        (Some(r), Some(c)) => (u64::from(r) + 1) * (u64::from(c) + 1),
        _ => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    fn cell(row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0; 10]);
        record(0x0203, &d)
    }

    /// Globals with one sheet pointing right after them, then the sheet's records.
    fn stream(sheet: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(0x0809, &[0; 16]);
        let globals_len = bof.len() + (4 + 8) + 4;
        let mut out = bof.clone();
        out.extend(record(0x0085, &[(globals_len as u32).to_le_bytes().to_vec(), vec![0; 4]].concat()));
        out.extend(record(0x000A, &[]));
        out.extend(bof);
        for r in sheet {
            out.extend_from_slice(r);
        }
        out.extend(record(0x000A, &[]));
        out
    }

    #[test]
    fn a_far_cell_and_a_lying_dimensions_record_are_refused_and_a_small_sheet_passes() {
        let limits = ExcelLimits::default();
        assert_eq!(scan(&stream(&[cell(0, 0), cell(50, 4)]), &limits), Ok(()));
        let e = scan(&stream(&[cell(0, 0), cell(0, 255)]), &limits).unwrap_err();
        assert!(matches!(e, ExcelError::TooManyColumns { used: 256, max: 64 }), "{e:?}");
        let mut dims = 0u32.to_le_bytes().to_vec();
        dims.extend(1_000_000u32.to_le_bytes());
        dims.extend([0, 0, 200, 0, 0, 0]);
        let e = scan(&stream(&[record(0x0200, &dims), cell(0, 0)]), &limits).unwrap_err();
        assert!(matches!(e, ExcelError::TooManyColumns { used: 200, .. }), "{e:?}");
        let wide = ExcelLimits { max_rows: 1_048_576, max_columns: 300, ..limits };
        let e = scan(&stream(&[record(0x0200, &dims), cell(0, 0)]), &wide).unwrap_err();
        assert!(matches!(e, ExcelError::XlsTooLarge { .. }), "{e:?}");
    }

    #[test]
    fn a_looping_or_truncated_compound_file_is_unreadable() {
        let mut file = vec![0u8; 512 * 3];
        file[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
        file[30] = 9;
        file[32] = 6;
        file[48..52].copy_from_slice(&1u32.to_le_bytes()); // directory at sector 1
        file[68..72].copy_from_slice(&END_OF_CHAIN.to_le_bytes());
        file[76..80].copy_from_slice(&0u32.to_le_bytes()); // FAT in sector 0
        for i in 1..109 {
            file[76 + i * 4..80 + i * 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        }
        // FAT: sector 0 is the FAT, sector 1 (the directory) points at itself.
        file[512..516].copy_from_slice(&0xFFFF_FFFDu32.to_le_bytes());
        file[516..520].copy_from_slice(&1u32.to_le_bytes());
        assert!(workbook_stream(&file).is_none(), "a directory chain that loops");
        assert!(workbook_stream(&file[..600]).is_none());
    }
}
