// The `bento` executable: everything it does lives in libbento (cli/bento_main.cc).
#include "cli/bento_main.h"

int main(int argc, char** argv) { return bento::cli::Main(argc, argv); }
