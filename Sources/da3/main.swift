print("da3")
