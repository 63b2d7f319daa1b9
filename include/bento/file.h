// File: an uploaded file as a service API receives it (BentoML's `Path`/file parameter):
// the client's file name, the declared media type and the bytes.
//
// The File owns its bytes. Nothing here is trusted: `filename` is whatever the client sent
// (never use it as a path without sanitizing), and `content_type` is the client's claim, not
// a sniffed type.
//
// Thread-safety: a plain value type.
#ifndef BENTO_FILE_H_
#define BENTO_FILE_H_

#include <string>

namespace bento {

struct File {
  std::string filename;      // as sent by the client; may be empty
  std::string content_type;  // e.g. "image/png"; empty when the client sent none
  std::string bytes;
};

}  // namespace bento

#endif  // BENTO_FILE_H_
