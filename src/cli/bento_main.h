// bento::cli::Main: the whole `bento` command, so that its executable is a one-line main()
// linked against libbento.
#ifndef BENTO_CLI_BENTO_MAIN_H_
#define BENTO_CLI_BENTO_MAIN_H_

namespace bento::cli {

int Main(int argc, char** argv);

}  // namespace bento::cli

#endif  // BENTO_CLI_BENTO_MAIN_H_
