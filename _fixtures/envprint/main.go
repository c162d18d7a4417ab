// Command envprint prints two environment variables, so that tests can
// see the environment a debugger gave the program.
package main

import (
	"fmt"
	"os"
)

func main() {
	v, ok := os.LookupEnv("TINYDBG_ENV_SET")
	fmt.Printf("TINYDBG_ENV_SET=%q %v\n", v, ok)
	v, ok = os.LookupEnv("TINYDBG_ENV_UNSET")
	fmt.Printf("TINYDBG_ENV_UNSET=%q %v\n", v, ok)
}
