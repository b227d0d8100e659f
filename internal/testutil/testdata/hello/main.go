// Command hello prints hello, for TestGoBuild.
package main

import "fmt"

func main() { fmt.Println("hello") }
