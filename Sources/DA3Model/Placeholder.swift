// DA3Model placeholder
