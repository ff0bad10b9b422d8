import Foundation

/// NumPy `.npz` archives: an uncompressed (stored) ZIP of `.npy` members, as `numpy.savez` writes
/// them and `numpy.load` reads them.
public enum NPZ {
    /// A ZIP archive holding `members` (name without `.npy`, encoded `.npy` bytes) in order.
    public static func encode(_ members: [(name: String, npy: Data)]) -> Data {
        var w = ByteWriter()
        var central = ByteWriter()
        // 1980-01-01 00:00 in MS-DOS format keeps the output deterministic.
        let dosTime: UInt16 = 0, dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
        for member in members {
            let name = Array((member.name + ".npy").utf8)
            let crc = CRC32.checksum(member.npy)
            let size = UInt32(member.npy.count)
            let offset = UInt32(w.data.count)
            // Local file header.
            w.u32(0x0403_4b50); w.u16(20); w.u16(0); w.u16(0); w.u16(dosTime); w.u16(dosDate)
            w.u32(crc); w.u32(size); w.u32(size); w.u16(UInt16(name.count)); w.u16(0)
            w.bytes(name)
            w.data.append(member.npy)
            // Central directory entry.
            central.u32(0x0201_4b50); central.u16(20); central.u16(20); central.u16(0); central.u16(0)
            central.u16(dosTime); central.u16(dosDate); central.u32(crc); central.u32(size); central.u32(size)
            central.u16(UInt16(name.count)); central.u16(0); central.u16(0); central.u16(0); central.u16(0)
            central.u32(0o100644 << 16); central.u32(offset)
            central.bytes(name)
        }
        let centralOffset = UInt32(w.data.count)
        w.data.append(central.data)
        // End of central directory.
        w.u32(0x0605_4b50); w.u16(0); w.u16(0); w.u16(UInt16(members.count)); w.u16(UInt16(members.count))
        w.u32(UInt32(central.data.count)); w.u32(centralOffset); w.u16(0)
        return w.data
    }
}
