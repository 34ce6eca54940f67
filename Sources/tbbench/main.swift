print("tbbench")
