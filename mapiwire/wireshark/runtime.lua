-- runtime.lua: the hand-written part of the mapiwire Wireshark plugin (STYLE.md 3.6).
--
-- mapiwire/wireshark/luagen.py inlines this file into wireshark/mapiwire.lua, after the empty
-- tables it fills later in the same file: P (the three Protos), F (ProtoFields by abbrev), FB
-- (Flags bit fields), VS (value strings), D (one dissect function per structure), K (constants)
-- and GEN (dispatch tables and constants taken from the Python definitions). Every name used
-- from those tables is looked up when a packet is dissected, never while the script loads.
--
-- Lua 5.2 (Wireshark 4.0): no //, &, |, << and no string.unpack; bit32 for bit operations,
-- UInt64/Int64 (TvbRange:le_uint64) for 8-byte integers.
--
-- Contents: errors as expert info; a cursor over a Tvb with bounds checks; field readers;
-- LZ77 (MS-OXCRPC 3.1.4.1.1.2) and XOR 0xA5 (3.1.4.1.1.3) producing a new Tvb; extended
-- buffers (MS-OXCRPC 2.2.2.1); property values by type, property rows by columns, restrictions
-- with a depth bound (MS-OXCDATA 2.11, 2.8, 2.12); address book values and rows
-- (MS-OXCMAPIHTTP 2.2.1); auxiliary blocks (MS-OXCRPC 2.2.2.2); ROP lists with request/response
-- pairing and state kept per MAPI session (MS-OXCROPS 2.2.1); the HTTP side: request types,
-- meta-tags, request/response pairing per TCP stream (MS-OXCMAPIHTTP 2.2.2 - 2.2.7).

local R = {}
local byte, char, sub, find, format, lower = string.byte, string.char, string.sub, string.find, string.format,
    string.lower
local concat, unpack = table.concat, table.unpack
-- the bit operations of the generated `this` expressions (construct's &, |, ^, <<, >>)
local band, bor, bxor, lshift, rshift = bit32.band, bit32.bor, bit32.bxor, bit32.lshift, bit32.rshift

-- Errors ------------------------------------------------------------------------------------
-- A malformed structure or missing earlier context raises a Failure; the ROP list, the
-- extended buffer and the body catch it with pcall and show it as expert info.

local Failure = {}
Failure.__tostring = function(e) return e.msg end

local function fail(msg) error(setmetatable({kind = "malformed", msg = msg}, Failure), 0) end
local function missing(msg) error(setmetatable({kind = "missing", msg = msg}, Failure), 0) end
R.fail, R.missing = fail, missing

local E = {
    malformed = ProtoExpert.new("mapihttp.malformed", "Malformed MAPI/HTTP data", expert.group.MALFORMED,
        expert.severity.ERROR),
    missing = ProtoExpert.new("mapihttp.missing_context", "Earlier context missing (capture started late?)",
        expert.group.MALFORMED, expert.severity.WARN),
    bug = ProtoExpert.new("mapihttp.dissector_error", "Lua dissector error", expert.group.MALFORMED,
        expert.severity.ERROR),
}
P.mapihttp.experts = {E.malformed, E.missing, E.bug}

-- Show an error caught by pcall (a Failure, or any other Lua error) on `item`, prefixed by `where`.
local function report(item, err, where)
    if not item then return end
    local prefix = where and (where .. ": ") or ""
    if getmetatable(err) == Failure then
        item:add_proto_expert_info(err.kind == "missing" and E.missing or E.malformed, prefix .. err.msg)
    else
        item:add_proto_expert_info(E.bug, prefix .. tostring(err))
    end
end
R.report = report

local function warn(item, msg)
    if item then item:add_proto_expert_info(E.malformed, msg) end
end

-- Cursor ------------------------------------------------------------------------------------
-- {tvb, raw = the Tvb's bytes as a Lua string, pos = offset of the next byte, stop = end (exclusive)}

function R.cursor(tvb, pos, stop)
    return {tvb = tvb, raw = tvb:raw(), pos = pos or 0, stop = stop or tvb:len()}
end

local function short(c, n)
    fail(format("needs %d bytes at offset %d, %d left", n, c.pos, c.stop - c.pos))
end

-- A cursor over the next n bytes; the parent moves past them (construct's Sized/FixedSized).
function R.sub(c, n)
    if n < 0 or n > c.stop - c.pos then
        fail(format("size %d is more than the %d bytes left", n, c.stop - c.pos))
    end
    local s = {tvb = c.tvb, raw = c.raw, pos = c.pos, stop = c.pos + n}
    c.pos = c.pos + n
    return s
end

function R.finish(s, n)
    if s.pos ~= s.stop then
        fail(format("%d bytes left over inside a %d-byte field", s.stop - s.pos, n))
    end
end

-- Rows whose columns are not known (the capture started after the RopSetColumns).
local function columns_missing(msg)
    error(setmetatable({kind = "missing", msg = msg, columns = true}, Failure), 0)
end

-- A Sized field whose subcon failed (core.Sized): when only its columns are missing, its n bytes
-- are kept as undecoded and the structure goes on after them; any other error goes up.
function R.kept(s, tree, err, n)
    if getmetatable(err) ~= Failure or not err.columns then error(err, 0) end
    local start = s.stop - n
    if tree then
        tree:add_proto_expert_info(E.missing, format("%s; its %d bytes kept as hex", err.msg, n))
        tree:add(F["mapihttp.undecoded"], s.tvb:range(start, n))
    end
    s.pos = s.stop
    return {Undecoded = true}
end

-- BoundedArray: count * minimum element size must fit in the bytes left.
function R.count(c, n, min_size)
    if n == nil or n < 0 or n * min_size > c.stop - c.pos then
        fail(format("count %s needs at least %s bytes, %d left", tostring(n),
            n and tostring(n * min_size) or "?", c.stop - c.pos))
    end
    return n
end

local function rd(c, n)
    local p = c.pos
    if p + n > c.stop then short(c, n) end
    local v
    if n == 1 then
        v = byte(c.raw, p + 1)
    elseif n == 2 then
        local a, b = byte(c.raw, p + 1, p + 2)
        v = a + b * 256
    else
        local a, b, d, e = byte(c.raw, p + 1, p + 4)
        v = a + b * 256 + d * 65536 + e * 16777216
    end
    c.pos = p + n
    return v, p
end

-- Field readers: read, add the item (when a tree is given), return the value ----------------

function R.uint(c, tree, f, n)
    local v, p = rd(c, n)
    return v, tree and tree:add_le(f, c.tvb:range(p, n), v)
end

local HALF = {[1] = 0x80, [2] = 0x8000, [4] = 0x80000000}

function R.sint(c, tree, f, n)
    local v, p = rd(c, n)
    local half = HALF[n]
    if v >= half then v = v - 2 * half end
    return v, tree and tree:add_le(f, c.tvb:range(p, n), v)
end

-- 8-byte integers stay UInt64 / Int64 userdata; tostring() gives the decimal value.
function R.u64(c, tree, f, signed)
    local p = c.pos
    if p + 8 > c.stop then short(c, 8) end
    c.pos = p + 8
    local r = c.tvb:range(p, 8)
    local v = signed and r:le_int64() or r:le_uint64()
    return v, tree and tree:add_le(f, r, v)
end

function R.float(c, tree, f, n)
    local p = c.pos
    if p + n > c.stop then short(c, n) end
    c.pos = p + n
    local r = c.tvb:range(p, n)
    local v = r:le_float()
    return v, tree and tree:add_le(f, r, v)
end

-- OpenEnum (core.py): the number, then its name when it has one ("CodePage: 1252 (Western European)").
function R.named(c, tree, f, n, names)
    local v, item = R.uint(c, tree, f, n)
    local name = item and names[v]
    if name then item:append_text(" (" .. name .. ")") end
    return v
end

-- Flags: the integer plus one boolean item per named bit (FB[n], from the definition's mapping).
function R.flags(c, tree, f, n, bits)
    local v, p = rd(c, n)
    if tree then
        local r = c.tvb:range(p, n)
        local item = tree:add_le(f, r, v)
        for i = 1, #bits do item:add_le(bits[i], r) end
    end
    return v
end

-- A FILETIME (MS-DTYP 2.3.3) as an ISO 8601 UTC time, nil outside years 1970..9999.
local function filetime_iso(v)
    local seconds = v:tonumber() / 1e7 - 11644473600
    if seconds > 0 and seconds < 253402300800 then return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(seconds)) end
    return nil
end

-- FILETIME: the 64-bit value, with its date appended.
function R.filetime(c, tree, f)
    local v, item = R.u64(c, tree, f)
    local iso = item and filetime_iso(v)
    if iso then item:append_text(" (" .. iso .. ")") end
    return v, item
end

-- GUID (MS-DTYP 2.3.4.1, little-endian fields); the value is the registry form.
function R.guid(c, tree, f)
    local p = c.pos
    if p + 16 > c.stop then short(c, 16) end
    c.pos = p + 16
    local item = tree and tree:add_le(f, c.tvb:range(p, 16))
    local b = {byte(c.raw, p + 1, p + 16)}
    return format("{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
        b[4], b[3], b[2], b[1], b[6], b[5], b[8], b[7], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16]), item
end

-- Null-terminated strings: length before the terminator, searched in the raw bytes.
local function strlen8(c)
    local s = find(c.raw, "\0", c.pos + 1, true)
    if not s or s > c.stop then fail(format("string at offset %d has no terminator", c.pos)) end
    return s - 1 - c.pos
end

local function strlen16(c)
    local from = c.pos + 1
    while true do
        local s = find(c.raw, "\0\0", from, true)
        if not s or s + 1 > c.stop then fail(format("string at offset %d has no terminator", c.pos)) end
        if (s - 1 - c.pos) % 2 == 0 then return s - 1 - c.pos end
        from = s + 1
    end
end

-- Latin-1 to UTF-8 (TvbRange:string(ENC_ISO_8859_1) in Wireshark 4.0 cuts the converted string
-- at the byte length of the range, losing characters after the first non-ASCII one).
local LATIN1 = {}
for i = 128, 255 do LATIN1[char(i)] = char(0xC0 + math.floor(i / 64), 0x80 + i % 64) end

-- AsciiZ: 8-bit (Latin-1, so every byte has a character) string; the value is UTF-8.
function R.strz(c, tree, f)
    local n, p = strlen8(c), c.pos
    c.pos = p + n + 1
    local v = (sub(c.raw, p + 1, p + n):gsub("[\128-\255]", LATIN1))
    return v, tree and tree:add(f, c.tvb:range(p, n + 1), v)
end

local function utf8char(cp)
    if cp < 0x80 then return char(cp) end
    if cp < 0x800 then return char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
    if cp < 0x10000 then
        return char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    end
    return char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
        0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

-- UTF-16LE to UTF-8, a surrogate that is not part of a pair as U+FFFD (the character after it
-- is kept, as Python's decoder keeps it).
local function utf16(s)
    local out, i, n = {}, 1, #s
    while i < n do
        local u = byte(s, i) + byte(s, i + 1) * 256
        i = i + 2
        if u >= 0xD800 and u <= 0xDBFF and i < n then
            local low = byte(s, i) + byte(s, i + 1) * 256
            if low >= 0xDC00 and low <= 0xDFFF then
                u = 0x10000 + (u - 0xD800) * 1024 + (low - 0xDC00)
                i = i + 2
            else
                u = 0xFFFD
            end
        elseif u >= 0xD800 and u <= 0xDFFF then
            u = 0xFFFD
        end
        out[#out + 1] = utf8char(u)
    end
    return concat(out)
end

-- UnicodeZ: UTF-16LE string; the value is UTF-8. Wireshark converts strings without surrogates.
function R.ustrz(c, tree, f)
    local n, p = strlen16(c), c.pos
    c.pos = p + n + 2
    local v = ""
    if n > 0 then
        local s = sub(c.raw, p + 1, p + n)
        v = find(s, "[\216-\223]") and utf16(s) or c.tvb:range(p, n):le_ustring()
    end
    return v, tree and tree:add(f, c.tvb:range(p, n + 2), v)
end

-- n raw bytes (all that is left when n is nil); the value is the Lua string of the bytes.
function R.bytes(c, tree, f, n)
    local p = c.pos
    if n == nil then n = c.stop - p end
    if n < 0 or p + n > c.stop then short(c, n) end
    c.pos = p + n
    return sub(c.raw, p + 1, p + n), tree and tree:add(f, c.tvb:range(p, n))
end

-- ServerObjectHandleTable (MS-OXCROPS 2.2.1): the rest as 32-bit handles.
function R.u32list(c, tree, f)
    local n = c.stop - c.pos
    if n % 4 ~= 0 then fail(format("%d bytes is not a whole number of 4-byte handles", n)) end
    local list = {}
    local item = tree and tree:add(c.tvb:range(c.pos, n), format("ServerObjectHandleTable (%d)", n / 4))
    for i = 1, n / 4 do
        list[i] = R.uint(c, item, f, 4)
    end
    return list
end

-- Tree helpers --------------------------------------------------------------------------------

-- Open the subtree of a structure: `f` is a ProtoField (FT_NONE), a text label, or nil to add
-- the fields to `tree` itself. Returns the tree to add to and the start (nil: nothing to close).
function R.open(tree, c, f)
    if not tree then return nil, nil end
    if f == nil then return tree, nil end
    local range = c.tvb:range(c.pos, c.stop - c.pos)
    if type(f) == "string" then return tree:add(range, f), c.pos end
    return tree:add(f, range), c.pos
end

function R.close(item, c, start)
    if start then item:set_len(c.pos - start) end
end

-- A text subtree for an array: "Name (n)" ("Name" when the count is not known before).
function R.list(tree, c, name, n)
    if not tree then return nil, nil end
    return tree:add(c.tvb:range(c.pos, c.stop - c.pos), n and format("%s (%d)", name, n) or name), c.pos
end

-- `this._params.a.b` of the definitions: the per-message context. A missing step is missing
-- state; a missing last value is allowed for direct params and the `_x` state keys.
function R.param(ctx, ...)
    local v = ctx
    local n = select("#", ...)
    for i = 1, n do
        local key = select(i, ...)
        if v == nil then missing("needs request state that is not known (" .. key .. ")") end
        v = v[key]
        if v == nil and i > 1 and sub(key, 1, 1) ~= "_" then
            missing("needs request state that is not known (" .. key .. ")")
        end
    end
    return v
end

-- construct's Select: the first alternative that parses (tried without a tree first).
function R.select(c, tree, p, ctx, f, alternatives)
    for i = 1, #alternatives do
        local try = {tvb = c.tvb, raw = c.raw, pos = c.pos, stop = c.stop}
        if pcall(alternatives[i], try, nil, p, ctx, f) then
            return alternatives[i](c, tree, p, ctx, f)
        end
    end
    fail("no alternative of a Select matched")
end

-- LZ77 + DIRECT2 (MS-OXCRPC 3.1.4.1.1.2) and XOR (3.1.4.1.1.3) ---------------------------------

local XOR = {}
for i = 0, 255 do XOR[char(i)] = char(bxor(i, 0xA5)) end

function R.xor(s) return (s:gsub(".", XOR)) end

-- Decode `data` (a Lua string) into exactly `size` bytes. Returns the string, or nil, an error
-- and the input offset of the offending element (the conditions of mapiwire/dissect/lz77.py).
function R.lz77(data, size)
    local out, pos, ip, n, half = {}, 0, 0, #data, -1
    while true do
        if ip + 4 > n then return nil, "input ends where a bitmask is due (no end bit)", ip end
        local a, b, d, e = byte(data, ip + 1, ip + 4)
        local flags = a + b * 256 + d * 65536 + e * 16777216
        ip = ip + 4
        for bit = 31, 0, -1 do
            if band(flags, lshift(1, bit)) == 0 then
                if ip >= n then return nil, "input ends inside a run of literals", n end
                if pos >= size then return nil, format("literals overrun SizeActual %d", size), ip end
                pos = pos + 1
                ip = ip + 1
                out[pos] = byte(data, ip)
            else
                if ip == n then
                    if pos ~= size then
                        return nil, format("stream ends after %d of %d bytes", pos, size), ip
                    end
                    local parts = {}
                    for i = 1, pos, 4096 do
                        parts[#parts + 1] = char(unpack(out, i, math.min(i + 4095, pos)))
                    end
                    return concat(parts)
                end
                local at = ip
                if ip + 2 > n then return nil, "input ends inside match metadata", at end
                local m = byte(data, ip + 1) + byte(data, ip + 2) * 256
                ip = ip + 2
                local dist = math.floor(m / 8) + 1
                local length = m % 8
                if length == 7 then
                    if half < 0 then
                        if ip >= n then return nil, "input ends before the length nibble", at end
                        length = byte(data, ip + 1) % 16
                        half = ip
                        ip = ip + 1
                    else
                        length = math.floor(byte(data, half + 1) / 16)
                        half = -1
                    end
                    if length == 15 then
                        if ip >= n then return nil, "input ends before the length byte", at end
                        length = byte(data, ip + 1)
                        ip = ip + 1
                        if length == 255 then
                            if ip + 2 > n then return nil, "input ends inside the 16-bit length", at end
                            length = byte(data, ip + 1) + byte(data, ip + 2) * 256
                            ip = ip + 2
                            if length == 0 then
                                if ip + 4 > n then return nil, "input ends inside the 32-bit length", at end
                                local w1, w2, w3, w4 = byte(data, ip + 1, ip + 4)
                                length = w1 + w2 * 256 + w3 * 65536 + w4 * 16777216
                                ip = ip + 4
                            end
                            length = length + 3
                        else
                            length = length + 25
                        end
                    else
                        length = length + 10
                    end
                else
                    length = length + 3
                end
                if dist > pos then
                    return nil, format("match distance %d reaches before the output start (%d out)", dist, pos), at
                end
                if pos + length > size then
                    return nil, format("match of %d bytes overruns SizeActual %d", length, size), at
                end
                local from = pos - dist
                for i = 1, length do out[pos + i] = out[from + i] end
                pos = pos + length
            end
        end
    end
end

-- Extended buffers (MS-OXCRPC 2.2.2.1, 3.1.4.1.1.1) ---------------------------------------------

local HEADER_SIZE = 8

local function looks_like_header(c)
    if c.stop - c.pos < HEADER_SIZE then return false end
    local s = {tvb = c.tvb, raw = c.raw, pos = c.pos, stop = c.stop}
    local version, flags, size = rd(s, 2), rd(s, 2), rd(s, 2)
    return version == 0 and band(flags, 0xFFF8) == 0 and size <= c.stop - c.pos - HEADER_SIZE
end

-- Parse one payload with `payload` (a D function) on its own cursor; errors become expert info
-- and the payload `{Undecoded = true}` (as ExtendedBuffer._payload does).
local function parse_payload(pc, tree, payload, p, ctx)
    local start = pc.pos
    local ok, v = pcall(payload, pc, tree, p, ctx, nil)
    if not ok then
        report(tree, v, "payload")
        if tree and pc.stop > start then tree:add(F["mapihttp.undecoded"], pc.tvb:range(start, pc.stop - start)) end
        return {Undecoded = true}
    end
    if pc.pos ~= pc.stop then warn(tree, format("%d bytes left over after the payload", pc.stop - pc.pos)) end
    return v
end

-- Value: {RPC_HEADER_EXT = {header, ...}, Payloads = {payload, ...}} (one entry per header).
function R.extended_buffer(c, tree, p, ctx, optional, payload, f, what)
    local item, s0 = R.open(tree, c, f)
    if optional and not looks_like_header(c) then
        local v = parse_payload(R.sub(c, c.stop - c.pos), item, payload, p, ctx)
        R.close(item, c, s0)
        return {Payloads = {v}}
    end
    local headers, payloads = {}, {}
    while true do
        if c.stop - c.pos < HEADER_SIZE then
            fail(format("RPC_HEADER_EXT needs 8 bytes, %d left", c.stop - c.pos))
        end
        local h = GEN.RPC_HEADER_EXT(c, item, p, ctx, "RPC_HEADER_EXT")
        if h.Size > c.stop - c.pos then
            fail(format("RPC_HEADER_EXT.Size %d is more than the %d bytes left", h.Size, c.stop - c.pos))
        end
        local wire = R.sub(c, h.Size)
        local pc = wire
        if band(h.Flags, 0x1) == 0 and h.Size ~= h.SizeActual then
            warn(item, format("uncompressed payload with Size %d != SizeActual %d", h.Size, h.SizeActual))
        end
        if band(h.Flags, 0x3) ~= 0 then
            local data = sub(c.raw, wire.pos + 1, wire.stop)
            if band(h.Flags, 0x2) ~= 0 then data = R.xor(data) end
            if band(h.Flags, 0x1) ~= 0 then
                local plain, err, at = R.lz77(data, h.SizeActual)
                if not plain then
                    warn(item, format("payload %d: %s (offset %d)", #headers, err, wire.pos + (at or 0)))
                    if item then item:add(F["mapihttp.undecoded"], c.tvb:range(wire.pos, h.Size)) end
                end
                data = plain
            end
            if data then
                local label = (band(h.Flags, 0x1) ~= 0 and "Decompressed " or "De-obfuscated ") .. (what or "payload")
                pc = R.cursor(ByteArray.new(data, true):tvb(label))
            else
                pc = nil
            end
        end
        headers[#headers + 1] = h
        payloads[#payloads + 1] = pc and parse_payload(pc, item, payload, p, ctx) or {Undecoded = true}
        if band(h.Flags, 0x4) ~= 0 then break end
        if #headers >= GEN.MAX_PAYLOADS then
            warn(item, format("no Last flag after %d payloads", GEN.MAX_PAYLOADS))
            break
        end
        if c.pos >= c.stop then
            warn(item, "buffer ended before a header with the Last flag")
            break
        end
    end
    R.close(item, c, s0)
    return {RPC_HEADER_EXT = headers, Payloads = payloads}
end

-- Property values (MS-OXCDATA 2.11.1) -------------------------------------------------------------
-- GEN.PTYPES maps each PropertyType to how it is read ("i32", "mv_string", ...), taken from
-- oxcdata.CODECS by the generator.

local KIND_FIELD = {
    i16 = "oxcdata.value.integer16", i32 = "oxcdata.value.integer32", f32 = "oxcdata.value.floating32",
    f64 = "oxcdata.value.floating64", currency = "oxcdata.value.currency",
    floatingtime = "oxcdata.value.floatingtime", errorcode = "oxcdata.value.errorcode",
    boolean = "oxcdata.value.boolean", object = "oxcdata.value.object", i64 = "oxcdata.value.integer64",
    string8 = "oxcdata.value.string8", string = "oxcdata.value.string", time = "oxcdata.value.time",
    guid = "oxcdata.value.guid", binary = "oxcdata.value.binary",
}
-- the least bytes one value takes (MS-OXCDATA 2.11.1), to bound multi-value counts
local KIND_MIN = {i16 = 2, i32 = 4, f32 = 4, f64 = 8, currency = 8, floatingtime = 8, errorcode = 4, i64 = 8,
    time = 8, guid = 16, string = 2}

-- Property names (MS-OXPROPS). Ids below 0x8000: the PidTag name by tag, else by id. Ids from
-- 0x8000 are named properties, whose names the session sets (render.py property_name): the
-- message context `ctx` says where to look. ctx.address_book: the address book's fixed tags
-- (NSPI); else ctx.named (id -> name the session learned, see learn_names) and ctx.named_new
-- (names learned earlier in the response being dissected).
local NAMED_FLOOR = 0x8000

local function property_name(id, ptype, ctx)
    local value = id * 65536 + ptype
    if id < NAMED_FLOOR then return VS.property_tags[value] or GEN.PROPERTY_NAMES[id] end
    if ctx == nil then return nil end
    if ctx.address_book then return GEN.ADDRESS_BOOK_TAG_NAMES[value] or GEN.ADDRESS_BOOK_NAMES[id] end
    local new = ctx.named_new
    return new and new[id] or ctx.named and ctx.named[id]
end

-- Name first, as MS-OXPROPS and MAPI Inspector write a property: its name, and in parentheses its
-- type and tag: (name, "PtypString, 0x0037001F"); without a name, the tag leads and the
-- parentheses hold the type only: ("0x8001001F", "PtypString").
local known_parts, known_count = {}, 0  -- tags below 0x8000 (named alike in every session)

local function tag_parts(id, ptype, ctx)
    local value = id * 65536 + ptype
    local known = id < NAMED_FLOOR and known_parts[value]
    if known then return known[1], known[2] end
    local name = property_name(id, ptype, ctx)
    local tag = format("0x%08X", value)
    local type_name = VS.property_types[ptype]
    local head, tail = tag, type_name
    if name then head, tail = name, type_name and (type_name .. ", " .. tag) or tag end
    if id < NAMED_FLOOR and known_count < 4096 then
        known_parts[value], known_count = {head, tail}, known_count + 1
    end
    return head, tail
end

-- "PidTagSubject (PtypString, 0x0037001F)", "0x8001001F (PtypString)" when the name is not known.
local function tag_text(tag, ctx)
    local head, tail = tag_parts(tag.PropertyId, tag.PropertyType, ctx)
    return tail and format("%s (%s)", head, tail) or head
end

-- The name of a named property (MS-OXCDATA 2.6.1 PropertyName: Kind 0x00 LID, 0x01 Name): its
-- PidLid / PidName name (GEN.NAMED_PROPERTIES by property set GUID), else "{GUID}:0xLID" /
-- "{GUID}:Name"; nil for other Kinds. PS_MAPI LIDs are the tagged property ids (MS-OXPROPS 1.3.2).
local function named_property_name(name)
    local guid, kind = name.GUID, name.Kind
    if type(guid) ~= "string" then return nil end
    local set = GEN.NAMED_PROPERTIES[guid]
    if kind == 0 and name.LID ~= nil then
        local lid = name.LID
        if guid == GEN.PS_MAPI and lid < NAMED_FLOOR and GEN.PROPERTY_NAMES[lid] then return GEN.PROPERTY_NAMES[lid] end
        return set and set[lid] or format("%s:0x%04X", guid, lid)
    elseif kind == 1 and name.Name ~= nil then
        return set and set[name.Name] or guid .. ":" .. name.Name
    end
    return nil
end

-- After a PropertyTag structure: its 32-bit tag as a generated field, the name in the summary,
-- and the name of a named property as a field of its own.
function R.tag_summary(item, c, start, t, ctx)
    if not item or not start then return end
    local tag = t.PropertyId * 65536 + t.PropertyType
    local range = c.tvb:range(start, c.pos - start)
    item:add(F["oxcdata.propertytag"], range, tag):set_generated()
    item:append_text(": " .. tag_text(t, ctx))
    if t.PropertyId >= NAMED_FLOOR then
        local name = property_name(t.PropertyId, t.PropertyType, ctx)
        if name then item:add(F["oxcdata.propertytag.name"], range, name):set_generated() end
    end
end

local read_value, column_labels

-- One value of each kind: (cursor, tree, field, COUNT width, ctx) -> value, item
local READ = {
    i16 = function(c, tree, f) return R.sint(c, tree, f, 2) end,
    i32 = function(c, tree, f) return R.sint(c, tree, f, 4) end,
    f32 = function(c, tree, f) return R.float(c, tree, f, 4) end,
    f64 = function(c, tree, f) return R.float(c, tree, f, 8) end,
    currency = function(c, tree, f) return R.u64(c, tree, f, true) end,
    time = function(c, tree, f) return R.filetime(c, tree, f) end,
    errorcode = function(c, tree, f) return R.uint(c, tree, f, 4) end,
    boolean = function(c, tree, f) return R.uint(c, tree, f, 1) end,
    string8 = function(c, tree, f) return R.strz(c, tree, f) end,
    string = function(c, tree, f) return R.ustrz(c, tree, f) end,
    guid = function(c, tree, f) return R.guid(c, tree, f) end,
    null = function() return nil end,
    binary = function(c, tree, f, cs)
        -- the COUNT is shown under the bytes: one item per value
        local n, p = rd(c, cs)
        local v, item = R.bytes(c, tree, f, n)
        if item then item:add_le(F["oxcdata.value.count"], c.tvb:range(p, cs), n) end
        return v, item
    end,
    serverid = function(c, tree, f, cs, ctx)
        -- PtypServerId: 16-bit COUNT, then the 21-byte structure when Ours is 0x01, else raw bytes
        local n = R.uint(c, tree, F["oxcdata.value.count"], 2)
        local body = R.sub(c, n)
        if n == 21 and byte(c.raw, body.pos + 1) == 0x01 then
            return GEN.SERVER_ID(body, tree, nil, ctx, "PtypServerId")
        end
        return R.bytes(body, tree, F["oxcdata.value.serverid"], n)
    end,
    restriction = function(c, tree, f, cs, ctx)
        return R.restriction(c, tree, GEN.RESTRICTION_BY_SIZE[cs], nil, ctx, "Restriction")
    end,
    ruleaction = function(c, tree, f, cs, ctx) return GEN.RULE_ACTIONS[cs](c, tree, nil, ctx, "RuleAction") end,
}
READ.floatingtime, READ.i64, READ.object = READ.f64, READ.currency, READ.errorcode

local function read_single(c, tree, kind, cs, ctx)
    local read = READ[kind]
    if not read then fail("no reader for property value kind " .. tostring(kind)) end
    return read(c, tree, F[KIND_FIELD[kind]], cs, ctx)
end

-- A value as its line shows it after the property's name.
local function value_text(kind, v)
    if kind == "string" or kind == "string8" or kind == "guid" then return v end
    if kind == "boolean" then return v ~= 0 and "true" or "false" end
    if kind == "time" then return filetime_iso(v) or tostring(v) end
    if kind == "errorcode" then
        local name = VS.error_codes[v]
        return name and format("0x%08X (%s)", v, name) or format("0x%08X", v)
    end
    if kind == "binary" then
        local hex = sub(v, 1, 32):gsub(".", function(ch) return format("%02x", byte(ch)) end)
        return #v > 32 and (hex .. "...") or hex
    end
    return tostring(v)
end

-- One property value (MS-OXCDATA 2.11.1). A value whose property is known (`id`, and its actual
-- type `ptype`) reads name first: "PidTagSubject: Quarterly report (PtypString, 0x0037001F)";
-- else `label`, if given, follows the value in brackets.
read_value = function(c, tree, kind, cs, ctx, label, id, ptype)
    local item = tree
    if sub(kind, 1, 3) ~= "mv_" then
        local v, vitem = read_single(c, tree, kind, cs, ctx)
        if vitem and type(vitem) == "userdata" then
            if id then
                local head, tail = tag_parts(id, ptype, ctx)
                local text = head .. ": " .. value_text(kind, v)
                vitem:set_text(tail and format("%s (%s)", text, tail) or text)
            elseif label then
                vitem:append_text(" [" .. label .. "]")
            end
        end
        return v
    end
    local element = sub(kind, 4)
    local n = R.uint(c, nil, F["oxcdata.value.count"], 4)
    local min = KIND_MIN[element] or (element == "binary" and cs or 1)
    if n * min > c.stop - c.pos then
        fail(format("%d values need at least %d bytes, %d left", n, n * min, c.stop - c.pos))
    end
    if tree then
        local text = format("%s (%d values)", label or "Values", n)
        if id then
            local head, tail = tag_parts(id, ptype, ctx)
            text = format("%s: %d values", head, n) .. (tail and format(" (%s)", tail) or "")
        end
        item = tree:add(c.tvb:range(c.pos - 4, c.stop - c.pos + 4), text)
        item:add_le(F["oxcdata.value.count"], c.tvb:range(c.pos - 4, 4), n)
    end
    local start, values = c.pos - 4, {}
    for i = 1, n do values[i] = read_single(c, item, element, cs, ctx) end
    if item then item:set_len(c.pos - start) end
    return values
end

local function kind_of(ptype)
    local kind = GEN.PTYPES[ptype]
    if kind == nil then
        if ptype == 0 then
            fail("PtypUnspecified (0x0000) has no value layout; the value needs its own PropertyType")
        end
        fail(format("unknown property type 0x%04x", ptype))
    end
    return kind
end

-- The labels of a column set, and the names of its named properties (ids from 0x8000, by column).
-- Made once per set (the rows of a table share one) when it has no named properties, whose
-- names depend on the message's context.
local label_cache = setmetatable({}, {__mode = "k"})

column_labels = function(columns, ctx)
    local cached = label_cache[columns]
    if cached then return cached, nil end
    local labels, names = {}, nil
    for i = 1, #columns do
        local tag = columns[i]
        labels[i] = tag_text(tag, ctx)
        if tag.PropertyId >= NAMED_FLOOR then
            names = names or {}
            names[i] = property_name(tag.PropertyId, tag.PropertyType, ctx)
        end
    end
    if names == nil then label_cache[columns] = labels end
    return labels, names
end

-- PropertyValue (MS-OXCDATA 2.11.2.1): a value of `ptype`; `cs` is the width of binary counts.
-- `owner`: the structure that holds the value's tag (its PropertyTag, or PropertyId and
-- PropertyType), which names it.
local function owner_id(owner)
    if type(owner) ~= "table" then return nil end
    local tag = type(owner.PropertyTag) == "table" and owner.PropertyTag or owner
    return tag.PropertyId
end

function R.property_value(c, tree, ptype, cs, ctx, label, owner)
    return read_value(c, tree, kind_of(ptype), cs, ctx, label, owner_id(owner), ptype)
end

-- A row value shown as a subtree (a FlaggedPropertyValue, a typed value, a named property): its
-- line reads name first, with the value, "no value" (Flag 0x1) or the error (Flag 0xA).
local function row_value_text(id, ptype, v, ctx)
    local head, tail = tag_parts(id, ptype, ctx)
    local value = v.PropertyValue
    local shown
    if v.Flag == 0x1 then
        shown = "no value"
    elseif v.Flag == 0xA then
        shown = "error " .. value_text("errorcode", value)
    elseif type(value) == "table" then
        shown = #value .. " values"
    else
        shown = value_text(GEN.PTYPES[ptype], value)
    end
    return head .. ": " .. shown .. (tail and (" (" .. tail .. ")") or "")
end

-- PropertyRow (MS-OXCDATA 2.8.1): Flag, then one value per column (StandardPropertyRow 2.8.1.1,
-- FlaggedPropertyRow 2.8.1.2). `columns` are PropertyTag tables; `count` keeps the first N.
function R.property_row(c, tree, columns, count, cs, ctx, f)
    if columns == nil then columns_missing("columns unknown: no column set is known for this table") end
    local ncols = #columns
    if count ~= nil then
        if count > ncols then fail(format("%d columns asked for, %d known", count, ncols)) end
        ncols = count
    end
    local item, s0 = R.open(tree, c, f or "PropertyRow")
    local flag = R.uint(c, item, F["oxcdata.propertyrow.flag"], 1)
    if flag > 1 then fail(format("PropertyRow Flag 0x%02x is neither 0x00 nor 0x01", flag)) end
    local values = {}
    local labels, names
    if item then labels, names = column_labels(columns, ctx) end
    for i = 1, ncols do
        local tag = columns[i]
        local ptype = tag.PropertyType
        local v = {PropertyTag = tag}
        local entry, e0 = item, nil
        local name = names and names[i]
        if item and (ptype == 0 or flag == 1 or name) then
            entry, e0 = R.open(item, c, labels[i])
            if name then entry:add(F["oxcdata.propertytag.name"], c.tvb:range(c.pos, 0), name):set_generated() end
        end
        if ptype == 0 then
            ptype = R.uint(c, entry, F["oxcdata.typedpropertyvalue.propertytype"], 2)
            v.PropertyType = ptype
        end
        if flag == 1 then
            local vf = R.uint(c, entry, F["oxcdata.flaggedpropertyvalue.flag"], 1)
            v.Flag = vf
            if vf == 0xA then
                v.PropertyValue = R.uint(c, entry, F["oxcdata.value.errorcode"], 4)
                goto continue
            elseif vf == 0x1 then
                goto continue
            elseif vf ~= 0 then
                fail(format("FlaggedPropertyValue Flag 0x%02x is not 0x0, 0x1 or 0xA", vf))
            end
        end
        if entry == item then
            v.PropertyValue = read_value(c, entry, kind_of(ptype), cs, ctx, nil, tag.PropertyId, ptype)
        else
            v.PropertyValue = read_value(c, entry, kind_of(ptype), cs, ctx)
        end
        ::continue::
        if entry ~= item then entry:set_text(row_value_text(tag.PropertyId, ptype, v, ctx)) end
        R.close(entry, c, e0)
        values[i] = v
    end
    R.close(item, c, s0)
    return {Flag = flag, ValueArray = values}
end

-- Restrictions (MS-OXCDATA 2.12): RestrictType, then the generated body of that type; nesting
-- deeper than max_depth is an error (counted in the message context, as the Python side does).
function R.restriction(c, tree, key, p, ctx, f)
    local info = GEN.RESTRICTIONS[key]
    local item, s0 = R.open(tree, c, f or "Restriction")
    local rtype = R.uint(c, item, F["oxcdata.restriction.restricttype"], 1)
    local body = info.bodies[rtype]
    if body == nil then fail(format("unknown RestrictType 0x%02x", rtype)) end
    local depth = ctx._restriction_depth or 0
    if depth >= info.max_depth then fail(format("restriction nested deeper than %d", info.max_depth)) end
    ctx._restriction_depth = depth + 1
    local ok, v = pcall(body, c, item, p, ctx, nil)
    ctx._restriction_depth = depth
    if not ok then error(v, 0) end
    v.RestrictType = rtype
    R.close(item, c, s0)
    return v
end

-- Address book values and rows (MS-OXCMAPIHTTP 2.2.1.1, 2.2.1.7), 32-bit COUNT fields ----------

local function has_value_byte(ptype)
    return GEN.AB.HAS_VALUE_TYPES[ptype] or band(ptype, GEN.MULTI_VALUE_FLAG) ~= 0
end

local function ab_has_value(c, tree)
    local p = c.pos
    local has = R.uint(c, tree, F["mapihttp.addressbookpropertyvalue.hasvalue"], 1)
    if has ~= 0 and has ~= 0xFF then
        warn(tree, format("HasValue 0x%02x is neither 0x00 nor 0xFF (offset %d)", has, p))
    end
    return has
end

local function ab_kind(ptype)
    local kind = GEN.PTYPES[ptype]
    if kind == nil then fail(format("no value encoding for PropertyType 0x%04x", ptype)) end
    return kind
end

local function ab_read(c, tree, ptype, ctx, label, id)
    local element = GEN.AB.ELEMENT_TYPES[ptype]
    if element == nil then return read_value(c, tree, ab_kind(ptype), 4, ctx, label, id, ptype) end
    local n = R.uint(c, tree, F["oxcdata.value.count"], 4)
    if n > c.stop - c.pos then
        fail(format("value count %d is more than the %d bytes left", n, c.stop - c.pos))
    end
    local kind = ab_kind(element)
    local values = {}
    for i = 1, n do
        local has = ab_has_value(c, tree)
        values[i] = {HasValue = has, Value = has ~= 0 and read_value(c, tree, kind, 4, ctx, nil) or nil}
    end
    return values
end

function R.ab_property_value(c, tree, ptype, ctx, label, owner)
    local id = owner_id(owner)
    if not has_value_byte(ptype) then
        return {PropertyValue = ab_read(c, tree, ptype, ctx, label, id)}
    end
    local has = ab_has_value(c, tree)
    return {HasValue = has, PropertyValue = has ~= 0 and ab_read(c, tree, ptype, ctx, label, id) or nil}
end

function R.ab_property_row(c, tree, columns, p, ctx, f)
    local item, s0 = R.open(tree, c, f or "AddressBookPropertyRow")
    local flags = R.uint(c, item, F["mapihttp.addressbookpropertyrow.flags"], 1)
    if columns == nil then fail("row data without a column list") end
    if flags ~= 0 and flags ~= 1 then fail(format("row Flags 0x%02x is neither 0x0 nor 0x1", flags)) end
    local tags = columns.PropertyTags
    local kinds = {}
    for i = 1, #tags do
        local ptype = tags[i].PropertyType
        if flags == 0 and ptype == GEN.AB.PTYP_NULL then
            fail("a PtypNull column has no value bytes in a row with Flags 0x0")
        end
        kinds[i] = ptype
    end
    local values = {}
    for i = 1, #tags do
        local ptype = kinds[i]
        -- each value under its tag's label; a named property's name as a field of its own
        local entry, e0 = R.open(item, c, item and tag_text(tags[i], ctx))
        local name = entry and tags[i].PropertyId >= NAMED_FLOOR and
            property_name(tags[i].PropertyId, tags[i].PropertyType, ctx)
        if name then entry:add(F["oxcdata.propertytag.name"], c.tvb:range(c.pos, 0), name):set_generated() end
        if ptype == GEN.AB.PTYP_UNSPECIFIED then
            local def = flags == 0 and GEN.AB.typed or GEN.AB.flagged_with_type
            values[i] = def(c, entry, {_ = p, PropertyType = ptype}, ctx, nil)
        elseif flags == 0 then
            values[i] = R.ab_property_value(c, entry, ptype, ctx, nil, tags[i])
        else
            values[i] = GEN.AB.flagged(c, entry, {_ = p, PropertyType = ptype}, ctx, nil)
        end
        R.close(entry, c, e0)
    end
    R.close(item, c, s0)
    return {Flags = flags, ValueArray = values}
end

-- Auxiliary blocks (MS-OXCRPC 2.2.2.2) -----------------------------------------------------------

function R.aux_blocks(c, tree, p, ctx)
    local blocks = {}
    local list = tree and tree:add(c.tvb:range(c.pos, c.stop - c.pos), "Blocks")
    while c.pos < c.stop do
        local start = c.pos
        local item = list and list:add(c.tvb:range(start, c.stop - start), "AUX block")
        local header = GEN.AUX_HEADER(c, item, p, ctx, "AUX_HEADER")
        if header.Size < 4 or header.Size - 4 > c.stop - c.pos then
            fail(format("AUX_HEADER.Size %d does not fit the %d bytes left", header.Size, c.stop - c.pos + 4))
        end
        local body = R.sub(c, header.Size - 4)
        local block = GEN.AUX_BLOCKS[header.Version * 256 + header.Type]
        local value = {AUX_HEADER = header}
        if block == nil then
            value.Unknown = R.bytes(body, item, F["mapihttp.aux.unknown"], nil)
            if item then item:set_text(format("Unknown auxiliary block (Version %d, Type 0x%02X)", header.Version, header.Type)) end
        else
            local saved = ctx.aux_block
            ctx.aux_block = {start = start, stop = start + header.Size}
            local ok, v = pcall(block.parse, body, item, p, ctx, nil)
            ctx.aux_block = saved
            if not ok then error(v, 0) end
            value[block.name] = v
            if item then item:set_text(block.name) end
        end
        if item then item:set_len(c.pos - start) end
        blocks[#blocks + 1] = value
    end
    if list then list:append_text(format(" (%d)", #blocks)) end
    return {Blocks = blocks}
end

-- A string at an offset from the start of the AUX_HEADER (MS-OXCRPC 2.2.2.2.x); 0: absent.
function R.offset_string(c, tree, f, t, offset_field, unicode, size_field, ctx)
    local offset = t[offset_field]
    if offset == 0 then return nil end
    local block = ctx.aux_block
    local len = block.stop - block.start
    if offset < 4 or offset >= len then
        fail(format("%s %d points outside the %d-byte block", offset_field, offset, len))
    end
    local s = {tvb = c.tvb, raw = c.raw, pos = block.start + offset, stop = block.stop}
    if size_field then
        local size = t[size_field]
        if offset + size > len then fail(format("%s %d runs past the block", size_field, size)) end
        return R.bytes(s, tree, f, size)
    end
    return unicode and R.ustrz(s, tree, f) or R.strz(s, tree, f)
end

-- ROP lists (MS-OXCROPS 2.2.1) and their per-message state ---------------------------------------
-- ctx.request_rops: the request ROPs a response list answers; ctx.notify_state(handle): state of
-- an unsolicited ROP; ctx.logons: LogonId -> LogonFlags known before a request list.

local UNKNOWN_REQUEST = {}

-- The request ROP a response with `rop_id` answers: the next one of that RopId from `cursor` on.
local function pair(request_rops, rop_id, cursor)
    if not request_rops or #request_rops == 0 or GEN.UNSOLICITED[rop_id] then return nil, cursor end
    for i = cursor, #request_rops do
        if request_rops[i].RopId == rop_id then return request_rops[i], i + 1 end
    end
    return nil, cursor
end

-- Named properties a successful response ROP maps (context.py learn: RopGetPropertyIdsFromNames,
-- also with ecWarnWithErrors, RopGetNamesFromPropertyIds, RopQueryNamedProperties), paired with
-- its request ROP: id (from 0x8000) -> name, into `into`. Ids 0x0000 (not mapped) and names of
-- other Kinds are skipped.
local function learn_names(into, request, response)
    local X = GEN.CTX
    local id, rv = response.RopId, response.ReturnValue
    if request == nil or request.RopId ~= id then return end
    local ids, names
    if id == X.ROP_GET_PROPERTY_IDS_FROM_NAMES and (rv == 0 or rv == X.WARN_WITH_ERRORS) then
        ids, names = response.PropertyIds, request.PropertyNames
    elseif id == X.ROP_GET_NAMES_FROM_PROPERTY_IDS and rv == 0 then
        ids, names = request.PropertyIds, response.PropertyNames
    elseif id == X.ROP_QUERY_NAMED_PROPERTIES and rv == 0 then
        ids, names = response.PropertyIds, response.PropertyNames
    end
    if type(ids) ~= "table" or type(names) ~= "table" then return end
    for i = 1, math.min(#ids, #names) do
        local name = ids[i] >= NAMED_FLOOR and type(names[i]) == "table" and named_property_name(names[i])
        if name then into[ids[i]] = name end
    end
end

-- A response's handle index is its request's (MS-OXCROPS 2.2.1; objects.py _check_index).
local function check_index(item, request, response)
    for _, field in ipairs({"OutputHandleIndex", "InputHandleIndex"}) do
        if response[field] ~= nil and request[field] ~= nil then
            if response[field] ~= request[field] then
                warn(item, format("%s %d is not its request's %d (MS-OXCROPS 2.2.1)", field, response[field],
                    request[field]))
            end
            return
        end
    end
end

function R.rop_list(c, tree, p, ctx, direction)
    local items = {}
    local cursor = 1
    local logons = {}
    if direction == "request" then
        for k, v in pairs(ctx.logons or {}) do logons[k] = v end
    end
    local list = tree and tree:add(c.tvb:range(c.pos, c.stop - c.pos), "RopsList")
    local start0 = c.pos
    while c.pos < c.stop do
        local start = c.pos
        local rop_id = byte(c.raw, start + 1)
        local rop = GEN.ROPS[rop_id]
        local def, paired
        if rop then
            if direction == "request" then
                local flags = c.stop - start > 1 and logons[byte(c.raw, start + 2)] or nil
                if flags == nil then ctx.private_logon = nil else ctx.private_logon = band(flags, 0x01) ~= 0 end
                def = rop.request
            else
                local handle = c.stop - start >= 5 and
                    (byte(c.raw, start + 2) + byte(c.raw, start + 3) * 256 + byte(c.raw, start + 4) * 65536 +
                    byte(c.raw, start + 5) * 16777216) or nil
                local request_rop
                request_rop, cursor = pair(ctx.request_rops, rop_id, cursor)
                paired = request_rop
                if request_rop == nil and GEN.UNSOLICITED[rop_id] and ctx.notify_state and handle ~= nil then
                    request_rop = ctx.notify_state(handle)
                end
                ctx.request_rop = request_rop or UNKNOWN_REQUEST
                if c.stop - start >= 6 and rop.rv then
                    local rv = byte(c.raw, start + 3) + byte(c.raw, start + 4) * 256 + byte(c.raw, start + 5) * 65536 +
                        byte(c.raw, start + 6) * 16777216
                    def = rv == 0 and rop.response or (rop.errors[rv] or rop.failure)
                else
                    def = rop.response
                end
            end
        end
        local name = rop and rop.name or format("0x%02X", rop_id)
        local item = list and list:add(P.rop, c.tvb:range(start, c.stop - start))
        if item then item:set_text(name) end
        if def == nil then
            local what = rop and (rop.name .. " has no " .. direction .. " buffer") or format("unknown RopId 0x%02x", rop_id)
            if item then
                item:add(F["rop.id"], c.tvb:range(start, 1), rop_id)
                item:add(F["rop.undecoded"], c.tvb:range(start, c.stop - start))
                warn(item, what)
            end
            items[#items + 1] = {RopId = rop_id, RopName = rop and rop.name, Undecoded = true}
            ctx.info[#ctx.info + 1] = name
            c.pos = c.stop
            break
        end
        if item then item:add(F["rop.name"], c.tvb:range(start, 1), name):set_generated() end
        local ok, v = pcall(def, c, item, p, ctx, nil)
        ctx.info[#ctx.info + 1] = name
        if not ok then
            report(item, v, name)
            if item and c.pos == start then item:add(F["rop.id"], c.tvb:range(start, 1), rop_id) end
            if item then item:add(F["rop.undecoded"], c.tvb:range(start, c.stop - start)) end
            items[#items + 1] = {RopId = rop_id, RopName = name, Undecoded = true}
            c.pos = c.stop
            break
        end
        if item then item:set_len(c.pos - start) end
        if direction == "request" and v.RopId == GEN.ROP_LOGON then logons[v.LogonId] = v.LogonFlags or 0 end
        if direction == "response" and ctx.named_new then learn_names(ctx.named_new, ctx.request_rop, v) end
        if paired then check_index(item, paired, v) end
        v.RopName = name
        items[#items + 1] = v
    end
    if list then
        list:set_len(c.pos - start0)
        list:append_text(format(" (%d)", #items))
    end
    ctx.request_rop, ctx.private_logon = nil, nil
    return items
end

-- Session state (mapiwire/dissect/context.py): columns by table handle, recipient columns by
-- message handle, LogonFlags by LogonId; kept per session, changed only on the first pass.

local function handle_at(handles, index)
    if index == nil or handles == nil or index < 0 or index >= #handles then return nil end
    local v = handles[index + 1]
    if v == GEN.CTX.NO_HANDLE then return nil end
    return v
end

-- The ROPs and handles of a parsed RopBuffer (all payloads).
local function rops_of(buffer)
    local rops, handles = {}, {}
    if type(buffer) ~= "table" or not buffer.Payloads then return rops, handles end
    for _, payload in ipairs(buffer.Payloads) do
        for _, rop in ipairs(payload.RopsList or {}) do rops[#rops + 1] = rop end
        for _, h in ipairs(payload.ServerObjectHandleTable or {}) do handles[#handles + 1] = h end
    end
    return rops, handles
end

local function annotate(state, rops, handles)
    local X = GEN.CTX
    local by_index = {}
    for _, rop in ipairs(rops) do
        if not rop.Undecoded then
            local id, logon_id, index = rop.RopId, rop.LogonId, rop.InputHandleIndex
            if id == X.ROP_LOGON and logon_id ~= nil then state.logon_flags[logon_id] = rop.LogonFlags or 0 end
            rop._logon_flags = logon_id ~= nil and state.logon_flags[logon_id] or nil
            rop._columns = nil
            if id == X.ROP_SET_COLUMNS then
                if index ~= nil then by_index[index] = rop.PropertyTags end
            elseif X.TABLE_ROW_ROPS[id] then
                local columns = index ~= nil and by_index[index] or nil
                if columns == nil then
                    local h = handle_at(handles, index)
                    columns = h and state.columns[h]
                end
                rop._columns = columns
            elseif id == X.ROP_GET_PROPERTIES_SPECIFIC then
                rop._columns = rop.PropertyTags
            elseif id == X.ROP_READ_RECIPIENTS then
                local h = handle_at(handles, index)
                rop._columns = h and state.recipient_columns[h]
            end
        end
    end
end

local function successful_pairs(rops, response_rops, rop_id)
    local requests, responses, out = {}, {}, {}
    for _, r in ipairs(rops) do if r.RopId == rop_id then requests[#requests + 1] = r end end
    for _, r in ipairs(response_rops) do
        if r.RopId == rop_id and (r.ReturnValue == nil or r.ReturnValue == 0) then responses[#responses + 1] = r end
    end
    for i = 1, math.min(#requests, #responses) do out[i] = {requests[i], responses[i]} end
    return out
end

local function learn(state, rops, response_rops, request_handles, response_handles)
    local X = GEN.CTX
    for _, rop in ipairs(rops) do
        if not rop.Undecoded then
            local index = rop.InputHandleIndex
            if rop.RopId == X.ROP_SET_COLUMNS then
                local h = handle_at(response_handles, index)
                if not h or h == 0 then h = handle_at(request_handles, index) end
                if h ~= nil then state.columns[h] = rop.PropertyTags end
            elseif rop.RopId == X.ROP_RELEASE then
                local h = handle_at(request_handles, index)
                if h ~= nil then
                    state.columns[h] = nil
                    state.recipient_columns[h] = nil
                end
            end
        end
    end
    for _, entry in ipairs(X.RECIPIENT_COLUMN_ROPS) do
        for _, pr in ipairs(successful_pairs(rops, response_rops, entry[1])) do
            local h = handle_at(response_handles, pr[1][entry[2]])
            if h ~= nil and pr[2].RecipientColumns ~= nil then state.recipient_columns[h] = pr[2].RecipientColumns end
        end
    end
end

-- HTTP side (MS-OXCMAPIHTTP 2.2.2 - 2.2.7) ---------------------------------------------------------
-- Every HTTP message is registered once per pass, in capture order: a request goes on the FIFO of
-- its TCP stream, a response takes the request it answers from it (HTTP/1.1 answers in order,
-- RFC 9112 9.3.2). Messages with an application/mapi-http or text/html body reach this plugin
-- through the media_type table; the others (a PING request, a refusal with an empty body, a body
-- of any other Content-Type) through a post-dissector that reads HTTP's own fields. The headers
-- of each message are read from the bytes HTTP dissected (the data source of its request method
-- or status code field), so that several messages in one frame keep their own.

local f_request_method = Field.new("http.request.method")
local f_response_code = Field.new("http.response.code")
local f_tcp_stream = Field.new("tcp.stream")

local streams = {}   -- tcp.stream -> FIFO of requests waiting for their response
local sessions = {}  -- session key -> state (context.py)
local html           -- the media_type dissector of text/html before this plugin (R.register)
local cache = {}     -- "frame:q|r<n>" -> what the first pass decided
local now = {frame = -1, shown = {}}  -- this dissection of a frame: messages registered and shown
local MAX_HEADER_BYTES = 65536
local MAX_WAITING = 4096  -- requests waiting on one stream (a capture of one direction only)

function P.mapihttp.init()
    streams, sessions, cache = {}, {}, {}
    now = {frame = -1, shown = {}}
end

local function this_dissection(pinfo)
    if now.frame ~= pinfo.number then now = {frame = pinfo.number, shown = {}} end
    return now
end

-- The header fields of the HTTP message whose request method or status code `fi` is (RFC 9112
-- 2.1, 5): lowercase name -> value (the last line of a name; Cookie lines joined with "; "), and
-- the data source and offsets of the header block and of the body after it.
local function message_headers(fi)
    local h = {}
    local tvb = fi.source
    if not tvb then return h, nil end
    local start = fi.offset
    local n = math.min(tvb:len() - start, MAX_HEADER_BYTES)
    if n <= 0 then return h, nil end
    local raw = tvb:range(start, n):raw()
    local pos = find(raw, "\r\n", 1, true)
    local where = {tvb = tvb, start = start, stop = start + n, body = nil}
    while pos do
        local e = find(raw, "\r\n", pos + 2, true)
        if not e then break end
        if e == pos + 2 then
            where.stop, where.body = start + e + 1, start + e + 1
            break
        end
        local k, v = sub(raw, pos + 2, e - 1):match("^([^:]+):%s*(.-)%s*$")
        if k then
            k = lower(k)
            h[k] = (k == "cookie" and h[k]) and (h[k] .. "; " .. v) or v
        end
        pos = e
    end
    return h, where
end

-- MAPI/HTTP by its headers (transport.is_mapi): an X-RequestType, or the MAPI/HTTP Content-Type.
local function is_mapi(h)
    local ctype = h["content-type"]
    return h["x-requesttype"] ~= nil or (ctype ~= nil and lower(ctype:match("^[^;]*")):match("^%s*(.-)%s*$") ==
        "application/mapi-http")
end

-- The session context cookie (transport.context_cookie): a name with "context" or a known one
-- (GEN.CONTEXT_COOKIE_NAMES: gromox's `sid`); any other cookie (X-BEResource, a load balancer's)
-- is not a session, and the caller falls back to the X-RequestId GUID.
local function context_cookie(value)
    if not value then return nil end
    for part in (value .. ";"):gmatch("([^;]*);") do
        local k, v = part:match("^%s*([^=]+)=(.*)$")
        if k then
            v = v:match("^(.-)%s*$")
            if v ~= "" and (lower(k):find("context", 1, true) or GEN.CONTEXT_COOKIE_NAMES[lower(k)]) then return v end
        end
    end
    return nil
end

local function session_state(key)
    local state = sessions[key]
    if not state then
        state = {logon_flags = {}, columns = {}, recipient_columns = {}, named = {}}
        sessions[key] = state
    end
    return state
end

local function copy(t)
    local out = {}
    for k, v in pairs(t) do out[k] = v end
    return out
end

local function tcp_stream()
    local stream = f_tcp_stream()
    return stream and stream.value or -1
end

-- Request i of this frame (fi: its http.request.method): registered on its stream's FIFO the
-- first time it is seen with its HTTP fields; later passes take what was cached by frame.
local function request_entry(pinfo, i, fi)
    local key = pinfo.number .. ":q" .. i
    local d = this_dissection(pinfo)
    local entry = d[key] or (pinfo.visited and cache[key])
    if entry then return entry end
    local h = message_headers(fi)
    local stream = tcp_stream()
    local request_id = h["x-requestid"]
    local guid = request_id and request_id:match("^%s*{?([%x-]+)}?:%d+%s*$")
    local session = context_cookie(h["cookie"]) or (guid and "requestid:" .. guid:upper()) or ("tcp:" .. stream)
    local mapi = is_mapi(h)
    entry = {mapi = mapi, request_type = h["x-requesttype"], request_id = request_id, frame = pinfo.number,
        session = session, logons = mapi and copy(session_state(session).logon_flags) or {}}
    cache[key], d[key] = entry, entry
    local fifo = streams[stream] or {}
    streams[stream] = fifo
    if #fifo >= MAX_WAITING then table.remove(fifo, 1) end
    fifo[#fifo + 1] = entry
    return entry
end

-- The request a response answers: the one its X-RequestId names (the requests before it got no
-- response this dissector saw), none when no waiting request has that id, else the oldest.
local function pop_request(stream, request_id)
    local fifo = streams[stream]
    if not fifo or #fifo == 0 then return nil end
    local at = 1
    if request_id then
        at = nil
        for i = 1, #fifo do
            if fifo[i].request_id == request_id then at = i break end
        end
        if not at then return nil end
    end
    local entry = fifo[at]
    for _ = 1, at do table.remove(fifo, 1) end
    return entry
end

-- Response i of this frame (fi: its http.response.code): paired with its request when first
-- seen (an interim 1xx response answers none), cached by frame. `fresh`: paired in this pass.
local function response_state(pinfo, i, fi)
    local key = pinfo.number .. ":r" .. i
    local d = this_dissection(pinfo)
    local state = d[key] or (pinfo.visited and cache[key])
    if state then return state end
    local h = message_headers(fi)
    local status = fi.value
    local entry
    if status >= 200 then entry = pop_request(tcp_stream(), h["x-requestid"]) end
    -- MAPI/HTTP: the answer to a MAPI/HTTP request, or a response that says so itself (a refusal
    -- names its X-ResponseCode even when its request was not captured)
    local mapi = (entry ~= nil and entry.mapi) or is_mapi(h) or h["x-responsecode"] ~= nil
    state = {memo = {}, entry = entry, mapi = mapi, fresh = true}
    cache[key], d[key] = state, state
    return state
end

-- Register the messages of this frame before message `upto` in the same direction (those
-- without a body were not seen yet): the FIFO keeps the order of the capture.
local function register_before(pinfo, upto, fields, register)
    for i = 1, upto - 1 do register(pinfo, i, fields[i]) end
end

-- The inner stream of a response (2.2.7): meta-tag lines, additional headers after DONE, a
-- blank line, then the body. Returns meta, headers, body offset, errors.
local META = {PROCESSING = true, PENDING = true, DONE = true}

local function inner_stream(raw)
    local meta, headers, errors = {}, {}, {}
    local pos = 1
    local state = "meta"
    while true do
        local e = find(raw, "\r\n", pos, true)
        if not e then
            if state == "meta" and #meta == 0 then return meta, headers, 0, errors end
            if state == "meta" then errors[#errors + 1] = "response ended before DONE"
            elseif state == "headers" then errors[#errors + 1] = "response ended inside the additional headers after DONE" end
            return meta, headers, pos - 1, errors
        end
        local line = sub(raw, pos, e - 1)
        if state == "meta" then
            if META[line] then
                meta[#meta + 1] = {line, pos - 1}
                if line == "DONE" then state = "headers" end
            elseif #meta == 0 then
                return meta, headers, 0, errors
            else
                errors[#errors + 1] = format("%q where a meta-tag was expected", sub(line, 1, 40))
                return meta, headers, pos - 1, errors
            end
        elseif line == "" then
            return meta, headers, e + 1, errors
        else
            local k, v = line:match("^([^:]+):%s*(.-)%s*$")
            if not k or k:match("^%s*$") then
                errors[#errors + 1] = format("%q is not a header line after DONE", sub(line, 1, 40))
                return meta, headers, pos - 1, errors
            end
            headers[#headers + 1] = {k:match("^%s*(.-)%s*$"), v, pos - 1, e - pos}
        end
        pos = e + 2
    end
end

-- Parse a body with a generated function; errors become expert info and undecoded bytes.
local function parse_body(def, tvb, start, tree, ctx, label)
    local c = R.cursor(tvb, start)
    local ok, v = pcall(def, c, tree, nil, ctx, label)
    if not ok then
        report(tree, v, label)
        if tree and tvb:len() > start then tree:add(F["mapihttp.undecoded"], tvb:range(start, tvb:len() - start)) end
        return nil
    end
    if c.pos ~= c.stop then warn(tree, format("%d bytes after the end of the body", c.stop - c.pos)) end
    return v
end

local function body_def(request_type)
    return request_type and GEN.BODIES[lower(request_type)]
end

-- Where a message's property ids from 0x8000 get their names (render.py _named): the address
-- book's fixed tags for NSPI bodies, else the named properties its session learned so far.
local function name_context(ctx, def, session)
    if def and def.endpoint == "nspi" then
        ctx.address_book = true
    elseif session then
        ctx.named = session_state(session).named
    end
    return ctx
end

local function info_text(request_type, suffix, names)
    local text = (request_type or "MAPI/HTTP") .. suffix
    if #names > 0 then text = text .. ": " .. concat(names, ", ") end
    return text
end

-- The subtree of a message: over its body, else over its header block.
local function message_item(tree, body, where)
    if body then return tree:add(P.mapihttp, body:range(0, body:len())) end
    return tree:add(P.mapihttp, where.tvb:range(where.start, where.stop - where.start))
end

-- A request: `body` is the Tvb of its body (nil: it has none), `where` its header block.
local function show_request(body, where, pinfo, tree, entry)
    local request_type = entry.request_type
    local item = message_item(tree, body, where)
    item:append_text(", " .. (request_type or "?") .. " request")
    local zero = (body or where.tvb):range(0, 0)
    item:add(F["mapihttp.request_type"], zero, request_type or ""):set_generated()
    if entry.request_id then item:add(F["mapihttp.request_id"], zero, entry.request_id):set_generated() end
    local def = body_def(request_type)
    local ctx = name_context({logons = entry.logons, info = {}}, def, entry.session)
    local size = body and body:len() or 0
    if request_type == nil then
        warn(item, "no X-RequestType header")
    elseif def == nil then
        warn(item, format("unknown X-RequestType %q", request_type))
    elseif def.request == nil then
        if size > 0 then warn(item, format("%s has no request body, got %d bytes", def.name, size)) end
    elseif size == 0 then
        warn(item, format("%s request without a body", def.name))
    else
        local v = parse_body(def.request, body, 0, item, ctx, def.request_label)
        if not entry.rops then
            entry.rops, entry.handles = {}, {}
            if v and def.name == "Execute" then entry.rops, entry.handles = rops_of(v.RopBuffer) end
        end
    end
    pinfo.cols.protocol = "MAPIHTTP"
    pinfo.cols.info = info_text(request_type, "", ctx.info)
end

-- A response: its request (paired when first seen), the meta-tags, the additional headers,
-- X-ResponseCode, then the body. `body`: its Tvb (nil: none); `h`: its HTTP headers; `text`: a
-- text body (MS-OXCMAPIHTTP 2.2.3.2.2: a response with a non-zero X-ResponseCode is text/html).
local function show_response(body, where, pinfo, tree, state, h, status, text)
    local first = state.fresh
    state.fresh = nil
    local entry = state.entry
    -- the request's X-RequestType decides; the response's own (not all servers send it) only
    -- when the request is not known
    local request_type
    if entry then request_type = entry.request_type else request_type = h["x-requesttype"] end
    local item = message_item(tree, body, where)
    local zero = (body or where.tvb):range(0, 0)
    item:append_text(", " .. (request_type or "?") .. " response")
    item:add(F["mapihttp.request_type"], zero, request_type or ""):set_generated()
    local request_id = h["x-requestid"] or (entry and entry.request_id)
    if request_id then item:add(F["mapihttp.request_id"], zero, request_id):set_generated() end
    if entry then
        item:add(F["mapihttp.request_frame"], zero, entry.frame):set_generated()
    elseif request_type == nil or lower(request_type) == "execute" then
        -- without its request, the response's type (or the state of its ROPs) is not known
        item:add_proto_expert_info(E.missing, "response without a known request (capture started late?)")
    end
    local raw = body and body:raw() or ""
    local meta, headers, body_at, errors = inner_stream(raw)
    for _, m in ipairs(meta) do item:add(F["mapihttp.meta"], body:range(m[2], #m[1] + 2), m[1]) end
    local code, inner_code
    if h["x-responsecode"] then code = tonumber(h["x-responsecode"]) end
    for _, a in ipairs(headers) do
        item:add(F["mapihttp.additional_header"], body:range(a[3], a[4]), a[1] .. ": " .. a[2])
        if lower(a[1]) == "x-responsecode" then code = tonumber(a[2]) inner_code = code end
    end
    for _, e in ipairs(errors) do warn(item, e) end
    if code then item:add(F["mapihttp.response_code"], zero, code):set_generated() end
    local def = body_def(request_type)
    local ctx = name_context({info = {}}, def, entry and entry.session)
    local body_len = #raw - body_at
    pinfo.cols.protocol = "MAPIHTTP"
    if status ~= 200 or (code ~= nil and code ~= 0) or def == nil then
        if body_len > 0 then
            if text then
                item:add_packet_field(F["mapihttp.text"], body:range(body_at, body_len), ENC_UTF_8)
            else
                item:add(F["mapihttp.undecoded"], body:range(body_at, body_len))
            end
        end
        local info = info_text(request_type, " response", ctx.info)
        if code ~= nil and code ~= 0 then
            info = info .. format(" [X-ResponseCode %d: %s]", code, VS.response_codes[code] or "unknown")
        elseif status ~= 200 then
            info = info .. format(" [HTTP %d]", status)
        end
        pinfo.cols.info = info
        return
    end
    if def.success == nil then
        if body_len > 0 then warn(item, format("%s has no response body, got %d bytes", def.name, body_len)) end
        pinfo.cols.info = info_text(request_type, " response", ctx.info)
        return
    end
    if body_len < 4 then
        if body_len > 0 or inner_code == nil then warn(item, format("body of %d bytes has no StatusCode", body_len)) end
        pinfo.cols.info = info_text(request_type, " response", ctx.info)
        return
    end
    local status_code = body:range(body_at, 4):le_uint()
    local definition = status_code == 0 and def.success or def.failure
    local label = status_code == 0 and def.success_label or def.failure_label
    local execute = def.name == "Execute" and entry and entry.rops
    local session
    if execute then
        session = session_state(entry.session)
        if first then
            annotate(session, entry.rops, entry.handles)
            ctx.named_new = {}  -- names the response's ROPs map, kept when the whole body decodes
        end
        ctx.request_rops = entry.rops
        local memo = state.memo
        ctx.notify_state = function(handle)
            if memo[handle] == nil and first then memo[handle] = {_columns = session.columns[handle]} end
            return memo[handle] or UNKNOWN_REQUEST
        end
    end
    local v = parse_body(definition, body, body_at, item, ctx, label)
    if v and execute and first and status_code == 0 then
        local response_rops, response_handles = rops_of(v.RopBuffer)
        learn(session, entry.rops, response_rops, entry.handles, response_handles)
        for id, name in pairs(ctx.named_new) do session.named[id] = name end
    end
    pinfo.cols.info = info_text(request_type, " response", ctx.info)
end

local function starts_with_meta(tvb)
    local head = tvb:len() >= 6 and tvb:range(0, math.min(tvb:len(), 12)):raw() or ""
    return head:sub(1, 12) == "PROCESSING\r\n" or head:sub(1, 9) == "PENDING\r\n" or head:sub(1, 6) == "DONE\r\n"
end

-- The body of message i of this frame, handed over by HTTP (application/mapi-http or text/html).
-- The messages before it in the frame are registered first (the post-dissector shows them).
-- text/html is MAPI/HTTP's refusal (2.2.3.2.2) when the response has an X-ResponseCode: shown
-- here as text; any other text/html body goes to the dissector text/html had before, unchanged,
-- and its message gets a MAPI/HTTP tree too when it is one.
local function dissect_body(tvb, pinfo, tree)
    local methods, codes = {f_request_method()}, {f_response_code()}
    local nreq, nresp = #methods, #codes
    local text = lower(pinfo.match_string or "") == "text/html"
    if nreq == 0 and nresp == 0 then  -- a pass without HTTP's fields (tshark -2 without -R)
        if text and html then html:call(tvb, pinfo, tree) end
        return
    end
    local request = nreq > 0 and not starts_with_meta(tvb)
    local d = this_dissection(pinfo)
    if request then
        register_before(pinfo, nreq, methods, request_entry)
        local entry = request_entry(pinfo, nreq, methods[nreq])
        if text and html then html:call(tvb, pinfo, tree) end
        if entry.mapi then
            d.shown["q" .. nreq] = true
            show_request(tvb, nil, pinfo, tree, entry)
        end
        return
    end
    register_before(pinfo, nresp, codes, response_state)
    local fi = codes[nresp]
    local state = response_state(pinfo, nresp, fi)
    local h = message_headers(fi)
    if text and html and h["x-responsecode"] == nil then html:call(tvb, pinfo, tree) end
    if state.mapi then
        d.shown["r" .. nresp] = true
        show_response(tvb, nil, pinfo, tree, state, h, fi.value, text)
    end
end

function P.mapihttp.dissector(tvb, pinfo, tree)
    local ok, err = pcall(dissect_body, tvb, pinfo, tree)
    if not ok then report(tree, err, "mapihttp") end
    return tvb:len()
end

-- The body of a message HTTP handed to no dissector of this plugin: its Content-Length bytes
-- after the header block, when they are all in the same data source (nil otherwise).
local function plain_body(h, where)
    local n = tonumber(h["content-length"] or "")
    if not n or n <= 0 or not where or not where.body or h["transfer-encoding"] then return nil end
    if where.body + n > where.tvb:len() then return nil end
    return where.tvb:range(where.body, n):tvb()
end

-- After every frame: the MAPI/HTTP messages of the frame that got no tree from a body (a PING
-- request, a response with an empty body, a body of another Content-Type).
local post = Proto("mapihttp_nobody", "MAPI over HTTP messages without a MAPI/HTTP body")

local function dissect_rest(pinfo, tree)
    local methods, codes = {f_request_method()}, {f_response_code()}
    if #methods == 0 and #codes == 0 then return end
    local d = this_dissection(pinfo)
    for i, fi in ipairs(methods) do
        local entry = request_entry(pinfo, i, fi)
        if entry.mapi and not d.shown["q" .. i] then
            local h, where = message_headers(fi)
            if where then show_request(plain_body(h, where), where, pinfo, tree, entry) end
        end
    end
    for i, fi in ipairs(codes) do
        local state = response_state(pinfo, i, fi)
        if state.mapi and not d.shown["r" .. i] then
            local h, where = message_headers(fi)
            local text = lower(h["content-type"] or ""):match("^%s*text/") ~= nil
            if where then show_response(plain_body(h, where), where, pinfo, tree, state, h, fi.value, text) end
        end
    end
end

function post.dissector(tvb, pinfo, tree)
    pinfo.cols.info:clear_fence()
    local ok, err = pcall(dissect_rest, pinfo, tree)
    if not ok then report(tree, err, "mapihttp") end
    now = {frame = -1, shown = {}}
end

function R.register()
    local lists = {mapihttp = {}, rop = {}, oxcdata = {}}
    for _, abbrev in ipairs(GEN.FIELD_ORDER) do
        lists[abbrev:match("^[^.]+")][#lists[abbrev:match("^[^.]+")] + 1] = F[abbrev]
    end
    for name, list in pairs(lists) do P[name].fields = list end
    local media = DissectorTable.get("media_type")
    html = media:get_dissector("text/html")
    media:add("application/mapi-http", P.mapihttp)
    media:add("text/html", P.mapihttp)
    register_postdissector(post)
end
