print("tb-info")
