#if canImport(Glibc)
import Glibc
#endif

/// Files as someone who shares the folder cannot turn against us: what we read is a regular file, opened without
/// waiting on a FIFO or a device; what we write goes first to a temporary name nobody else could have made or linked,
/// readable by its owner alone, and is renamed into place.
package enum Files {
    /// Every file this package writes is created with this mode: its owner reads and writes it, nobody else.
    package static let mode: mode_t = 0o600

    /// Opens `path` for reading, refusing anything but a regular file (a FIFO, a device, a folder) before a read could
    /// block on it. The caller closes the descriptor.
    package static func openRegular(_ path: String, directoryReason: String = "is a directory, not a file") throws(FileError)
        -> (fd: Int32, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw FileError(path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw FileError(path: path, errno: code)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            // Reads block as usual from here on: a regular file never waits.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            return (fd, Int64(info.st_size))
        case S_IFDIR:
            close(fd)
            throw FileError(path: path, reason: directoryReason)
        default:
            close(fd)
            throw FileError(path: path, reason: "is not a regular file (a pipe, socket or device); give a file")
        }
    }

    /// Creates a new file beside `path` under a name of its own (`PATH.tmp-PID-RANDOM`), failing rather than opening
    /// whatever someone put there (`O_EXCL`, `O_NOFOLLOW`), with `Files.mode`. Returns the descriptor and the name.
    package static func createTemporary(beside path: String) throws(FileError) -> (fd: Int32, path: String) {
        for _ in 0..<16 {
            let candidate = temporaryName(beside: path)
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 { return (fd, candidate) }
            if errno != EEXIST { throw FileError(path: path, errno: errno) }
        }
        throw FileError(path: path, reason: "could not create a temporary file beside it; is someone else writing there?")
    }

    /// Creates a new folder beside `path` under a name of its own, with `mode`, failing rather than reusing whatever
    /// someone put there. Returns its name.
    package static func createTemporaryFolder(beside path: String, mode: mode_t) throws(FileError) -> String {
        for _ in 0..<16 {
            let candidate = temporaryName(beside: path)
            if mkdir(candidate, mode) == 0 {
                // mkdir applies the umask; the mode asked for is the mode meant.
                guard chmod(candidate, mode) == 0 else { throw FileError(path: candidate, errno: errno) }
                return candidate
            }
            if errno != EEXIST { throw FileError(path: path, errno: errno) }
        }
        throw FileError(path: path, reason: "could not create a temporary folder beside it; is someone else writing there?")
    }

    /// `PATH.tmp-PID-RANDOM`: a name nobody could have prepared for this write.
    private static func temporaryName(beside path: String) -> String {
        "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Removes a folder this process created and the files in it, never following a link: a link someone planted
    /// inside is removed itself, not what it points to.
    package static func removeCreatedFolder(_ path: String) {
        var folder = stat()
        guard lstat(path, &folder) == 0, folder.st_mode & S_IFMT == S_IFDIR else { return }
        for name in directoryEntries(path) ?? [] {
            let entry = path + "/" + name
            var info = stat()
            guard lstat(entry, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                rmdir(entry)
            } else {
                unlink(entry)
            }
        }
        rmdir(path)
    }
}
