/// Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its `{hash tag}`, modulo 16384.
public enum RedisClusterSlot {
    public static let count = 16_384

    /// The slot of `key`, honouring a non-empty `{...}` hash tag.
    public static func of(_ key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            return Int(crc16(bytes[(open + 1)..<close]) % UInt16(count))
        }
        return Int(crc16(bytes[...]) % UInt16(count))
    }

    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}

extension RedisCommand {
    /// The key that decides which cluster node serves the command, when it has one: the first
    /// key of `EVAL`/`EVALSHA`, the first stream of `XREAD`/`XREADGROUP`, else the first argument.
    var routingKey: ArraySlice<UInt8>? {
        let words = self.words
        guard words.count > 1 else { return nil }
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard words.count > 3, let keys = Int(String(decoding: words[2], as: UTF8.self)), keys > 0 else { return nil }
            return words[3]
        case "XREAD", "XREADGROUP":
            guard let streams = words.firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }), streams + 1 < words.count else { return nil }
            return words[streams + 1]
        case "PING", "INFO", "SCRIPT", "CLUSTER", "TIME", "ASKING", "AUTH", "SELECT", "HELLO", "CLIENT", "DBSIZE", "FLUSHDB", "FLUSHALL", "SCAN", "KEYS":
            return nil
        default:
            return words[1]
        }
    }
}
