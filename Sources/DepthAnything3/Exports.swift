// The library's public surface re-exports the model and image types users touch.
@_exported import DA3Image
@_exported import DA3Model
