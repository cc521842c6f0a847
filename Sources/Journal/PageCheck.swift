import CLMDB

/// LMDB trusts every page it reads. A page whose header, node offsets or node flags are damaged
/// sends it past its page, into a NULL pointer (a node marked as holding duplicates in a database
/// without them: `mdb_xcursor_init1`) or into an assertion that aborts the process (`IS_LEAF(mp)`
/// in `mdb_cursor_next`). So before LMDB reads a journal, the journal walks the trees of the
/// snapshot itself, reading each page through the map with every offset checked, and names the
/// first damaged page instead of letting LMDB crash on it.
///
/// The layout is LMDB 0.9's (`mdb.c`: `MDB_page`, `MDB_node`, `MDB_db`) on a 64-bit
/// little-endian machine: a 16-byte page header (page number, key size of a LEAF2 page, flags,
/// lower and upper bounds of the free space, or the page count of an overflow page), then the
/// node offsets; a node is data size (32 bits, or a child page number with the flags word),
/// flags, key size, key, data.
struct PageCheck {
    /// One B-tree, as an `MDB_db` record describes it.
    struct Tree {
        var name: String
        var flags: UInt16
        var depth: UInt16
        var root: UInt64
        /// For the trees of a `MDB_DUPFIXED` database's duplicates: the size of each (LEAF2 leaves).
        var fixedSize = 0
        /// The main database: its nodes name the other databases.
        var isMain = false
    }

    /// What is wrong, where.
    struct Damage: Error {
        var page: UInt64
        var tree: String
        var what: String
        var revision: UInt64?
    }

    private static let headerSize = 16, nodeHeaderSize = 8, treeRecordSize = 48
    private static let branch: UInt16 = 0x01, leaf: UInt16 = 0x02, overflow: UInt16 = 0x04, leaf2: UInt16 = 0x20, subPage: UInt16 = 0x40, dirty: UInt16 = 0x10
    private static let bigData: UInt16 = 0x01, subData: UInt16 = 0x02, dupData: UInt16 = 0x04
    private static let dupSort: UInt16 = 0x04, dupFixed: UInt16 = 0x10
    static let invalidPage = UInt64.max

    private let gate: MapGate
    private let pageSize: Int
    private let lastPage: UInt64
    private var seen: [UInt64]

    init(gate: MapGate, pageSize: Int, lastPage: UInt64) {
        self.gate = gate
        self.pageSize = pageSize
        self.lastPage = lastPage
        seen = [UInt64](repeating: 0, count: Int(lastPage / 64) + 1)
    }

    /// Checks every page of `tree` (and of the databases a main tree names).
    mutating func walk(_ tree: Tree) throws(Damage) {
        guard tree.root != Self.invalidPage else { return }
        guard (1...32).contains(tree.depth) else { throw Damage(page: tree.root, tree: tree.name, what: "its tree has depth \(tree.depth)") }
        try page(tree.root, level: 1, of: tree)
    }

    /// The `pages` pages from `number` on, if they exist in this snapshot and no other tree uses them.
    private mutating func claim(_ number: UInt64, pages: Int, _ tree: Tree, from parent: UInt64) throws(Damage) -> UnsafeRawBufferPointer {
        func bad(_ what: String) -> Damage { Damage(page: parent, tree: tree.name, what: what) }
        guard number >= 2, number <= lastPage, UInt64(pages - 1) <= lastPage - number else {
            throw bad("it points to page \(number), beyond the pages in use")
        }
        for n in number..<(number + UInt64(pages)) {
            let (word, bit) = (Int(n / 64), UInt64(1) << (n % 64))
            guard seen[word] & bit == 0 else { throw bad("it points to page \(n), which another page points to too") }
            seen[word] |= bit
        }
        guard let bytes = gate.mapped(offset: Int(number) * pageSize, count: pages * pageSize) else {
            throw bad("it points to page \(number), beyond the data file")
        }
        return bytes
    }

    private mutating func page(_ number: UInt64, level: UInt16, of tree: Tree, from parent: UInt64 = 0) throws(Damage) {
        let p = try claim(number, pages: 1, tree, from: parent)
        func bad(_ what: String, _ revision: UInt64? = nil) -> Damage { Damage(page: number, tree: tree.name, what: what, revision: revision) }
        guard Self.u64(p, 0) == number else { throw bad("its header names page \(Self.u64(p, 0))") }
        let isLeaf = level == tree.depth
        let flags = Self.u16(p, 10)
        let expected = isLeaf ? (tree.fixedSize > 0 ? Self.leaf | Self.leaf2 : Self.leaf) : Self.branch
        guard flags == expected else {
            throw bad("its flags are 0x\(String(flags, radix: 16)) where a \(isLeaf ? "leaf" : "branch") page belongs")
        }
        let count = try nodeCount(p, size: pageSize) { bad($0) }
        if flags & Self.leaf2 != 0 {
            guard Self.headerSize + count * tree.fixedSize <= pageSize else { throw bad("its \(count) keys do not fit it") }
            return
        }
        let upper = Int(Self.u16(p, 14))
        for i in 0..<count {
            let offset = Int(Self.u16(p, Self.headerSize + 2 * i))
            guard offset >= upper, offset <= pageSize - Self.nodeHeaderSize else { throw bad("node \(i) lies outside it") }
            let (lo, hi, nodeFlags, keySize) = (Self.u16(p, offset), Self.u16(p, offset + 2), Self.u16(p, offset + 4), Int(Self.u16(p, offset + 6)))
            let keyEnd = offset + Self.nodeHeaderSize + keySize
            guard keyEnd <= pageSize else { throw bad("node \(i)'s key runs past it") }
            if !isLeaf {
                try page(UInt64(lo) | UInt64(hi) << 16 | UInt64(nodeFlags) << 32, level: level + 1, of: tree, from: number)
                continue
            }
            var revision: UInt64?
            if tree.name == "events", keySize == 8 {
                revision = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset + Self.nodeHeaderSize, as: UInt64.self))
            }
            let dataSize = Int(lo) | Int(hi) << 16
            try leafNode(p, i, from: number, keyEnd: keyEnd, key: (offset + Self.nodeHeaderSize, keySize), flags: nodeFlags, dataSize: dataSize, of: tree) {
                bad("node \(i) \($0)", revision)
            }
        }
    }

    private mutating func leafNode(
        _ p: UnsafeRawBufferPointer, _ i: Int, from number: UInt64, keyEnd: Int, key: (offset: Int, size: Int),
        flags: UInt16, dataSize: Int, of tree: Tree, _ bad: (String) -> Damage
    ) throws(Damage) {
        guard flags & ~(Self.bigData | Self.subData | Self.dupData) == 0 else { throw bad("has flags 0x\(String(flags, radix: 16))") }
        if flags & Self.bigData != 0 {
            guard flags == Self.bigData, keyEnd + 8 <= pageSize else { throw bad("is a damaged reference to an overflow page") }
            let first = Self.u64(p, keyEnd)
            let pages = (Self.headerSize - 1 + dataSize) / pageSize + 1
            let o = try claim(first, pages: pages, tree, from: number)
            guard Self.u64(o, 0) == first, Self.u16(o, 10) == Self.overflow, Int(Self.u32(o, 12)) >= pages else {
                throw bad("points to page \(first), which is not the overflow page it needs")
            }
            return
        }
        guard keyEnd + dataSize <= pageSize else { throw bad("has data running past its page") }
        let data = UnsafeRawBufferPointer(rebasing: p[keyEnd..<(keyEnd + dataSize)])
        if flags & Self.dupData != 0 {
            guard tree.flags & Self.dupSort != 0 else { throw bad("is marked as holding duplicates in a database without them") }
            if flags & Self.subData != 0 {
                guard dataSize == Self.treeRecordSize else { throw bad("has a damaged record of its duplicates") }
                var duplicates = Self.tree(data, name: tree.name)
                duplicates.flags = 0
                duplicates.fixedSize = tree.flags & Self.dupFixed != 0 ? Int(Self.u32(data, 0)) : 0
                try walk(duplicates)
            } else {
                try subPage(data, fixed: tree.flags & Self.dupFixed != 0, bad)
            }
        } else if flags & Self.subData != 0 {
            guard tree.isMain, dataSize == Self.treeRecordSize else { throw bad("is marked as naming a database where none can be") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: p[key.offset..<(key.offset + key.size)]), as: UTF8.self)
            try walk(Self.tree(data, name: name))
        }
    }

    /// The duplicates of one key kept inside its node: a small leaf page of their own.
    private func subPage(_ s: UnsafeRawBufferPointer, fixed: Bool, _ bad: (String) -> Damage) throws(Damage) {
        guard s.count >= Self.headerSize else { throw bad("has a damaged page of duplicates") }
        let flags = Self.u16(s, 10) & ~Self.dirty  // LMDB marks every page of duplicates dirty
        guard flags == Self.leaf | Self.subPage | (fixed ? Self.leaf2 : 0) else { throw bad("has a page of duplicates with flags 0x\(String(flags, radix: 16))") }
        let count = try nodeCount(s, size: s.count) { bad("has a page of duplicates where \($0)") }
        if fixed {
            guard Self.headerSize + count * Int(Self.u16(s, 8)) <= s.count else { throw bad("has more duplicates than fit it") }
            return
        }
        let upper = Int(Self.u16(s, 14))
        for j in 0..<count {
            let offset = Int(Self.u16(s, Self.headerSize + 2 * j))
            guard offset >= upper, offset <= s.count - Self.nodeHeaderSize,
                  Self.u16(s, offset + 4) == 0, offset + Self.nodeHeaderSize + Int(Self.u16(s, offset + 6)) <= s.count
            else { throw bad("has a damaged duplicate \(j)") }
        }
    }

    /// The number of nodes of a page of `size` bytes, from the bounds of its free space.
    private func nodeCount(_ p: UnsafeRawBufferPointer, size: Int, _ bad: (String) -> Damage) throws(Damage) -> Int {
        let lower = Int(Self.u16(p, 12)), upper = Int(Self.u16(p, 14))
        guard lower >= Self.headerSize, lower <= upper, upper <= size, (lower - Self.headerSize) % 2 == 0 else {
            throw bad("its free space bounds (\(lower), \(upper)) are impossible")
        }
        return (lower - Self.headerSize) / 2
    }

    /// An `MDB_db` record: key size of LEAF2 pages (u32), flags (u16), depth (u16), page counts,
    /// entries, root (u64 at 40).
    static func tree(_ record: UnsafeRawBufferPointer, name: String) -> Tree {
        Tree(name: name, flags: u16(record, 4), depth: u16(record, 6), root: u64(record, 40))
    }

    static func u16(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 { UInt16(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    static func u32(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 { UInt32(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    static func u64(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}

extension JournalView {
    /// Checks every page of this view's snapshot (see `PageCheck`) and throws `.corrupted` naming
    /// the first damaged one (and its revision, in the `events` database). Where the map's address
    /// is unknown nothing can be checked.
    func checkPages() throws(JournalError) {
        var stat = MDB_stat()
        guard mdb_env_stat(mdb_txn_env(txn), &stat) == 0, let meta = snapshotMeta(pageSize: Int(stat.ms_psize)) else { return }
        var check = PageCheck(gate: gate, pageSize: Int(stat.ms_psize), lastPage: meta.lastPage)
        do {
            try check.walk(meta.free)
            try check.walk(meta.main)
        } catch {
            let place = "page \(error.page) of \(error.tree) is damaged: \(error.what)"
            if let revision = error.revision {
                throw JournalError(.corrupted, "the journal at \(path) has a corrupted record at revision \(revision) (\(place))", revision: revision)
            }
            throw JournalError(.corrupted, "the journal at \(path) is corrupted: \(place)")
        }
    }

    /// The meta page this transaction's snapshot began from (the one with its transaction id), read
    /// twice to be sure a writer was not rewriting it; nil if it has been reused since.
    private func snapshotMeta(pageSize: Int) -> (free: PageCheck.Tree, main: PageCheck.Tree, lastPage: UInt64)? {
        let id = UInt64(mdb_txn_id(txn))
        for index in 0..<2 {
            guard let first = gate.mapped(offset: index * pageSize, count: DataFile.metaSize) else { return nil }
            let copy = [UInt8](first)
            guard PageCheck.u64(first, 144) == id, copy.elementsEqual(first) else { continue }
            return copy.withUnsafeBytes { m in
                var main = PageCheck.tree(UnsafeRawBufferPointer(rebasing: m[88..<136]), name: "the main database")
                main.isMain = true
                return (PageCheck.tree(UnsafeRawBufferPointer(rebasing: m[40..<88]), name: "the free-page database"), main, PageCheck.u64(m, 136))
            }
        }
        return nil
    }
}
