@_exported import DA3Core

/// A checkpoint problem, naming the file (and tensor when there is one) and the cause.
public typealias SafeTensorsError = FileError
